"""Model spec strings, the TOML models config, the registry and `farm models list`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from farm.backends import (
    SMOLLM2_MODEL,
    ModelSpec,
    ScriptedBackend,
    backend_names,
    create_backend,
    load_models_config,
    register_backend,
    resolve_model_spec,
)
from farm.cli import _register_commands, app
from farm.errors import ConfigError

CONFIG = """
[models.gpt]
backend = "openai"
model = "gpt-4o-mini"
requests_per_minute = 500
max_concurrency = 4
extra = { top_k = 40 }
headers = { "X-Team" = "farm" }

[models.claude]
backend = "anthropic"
model = "claude-test"
api_key_env = "MY_CLAUDE_KEY"

[models.tiny]
backend = "local"
options = { n_ctx = 1024 }
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_spec_local() -> None:
    spec = resolve_model_spec("local")
    assert spec.backend == "local"
    assert spec.model == SMOLLM2_MODEL


def test_spec_openai_with_base_url() -> None:
    spec = resolve_model_spec("openai:smollm@http://127.0.0.1:8080/v1")
    assert spec.backend == "openai"
    assert spec.model == "smollm"
    assert spec.base_url == "http://127.0.0.1:8080/v1"
    assert spec.name == "openai:smollm@http://127.0.0.1:8080/v1"


def test_spec_openai_model_with_colon() -> None:
    spec = resolve_model_spec("openai:llama3:8b")
    assert spec.model == "llama3:8b"
    assert spec.base_url is None


def test_spec_anthropic() -> None:
    spec = resolve_model_spec("anthropic:claude-sonnet-4-5")
    assert spec.backend == "anthropic"
    assert spec.model == "claude-sonnet-4-5"


def test_spec_llamacpp_and_scripted_paths(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    script = tmp_path / "rules.json"
    script.write_text("[]")
    assert resolve_model_spec(f"llamacpp:{gguf}").model == str(gguf)
    assert resolve_model_spec(f"llamacpp:{gguf}").backend == "local"
    assert resolve_model_spec(f"scripted:{script}").backend == "scripted"


def test_spec_missing_files_name_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"GGUF file .*missing\.gguf does not exist"):
        resolve_model_spec(f"llamacpp:{tmp_path / 'missing.gguf'}")
    with pytest.raises(ConfigError, match="script file"):
        resolve_model_spec(f"scripted:{tmp_path / 'missing.json'}")


def test_spec_unknown_lists_choices(config_file: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_model_spec("gpt5", config_path=config_file)
    message = str(raised.value)
    assert "'gpt5'" in message
    assert "openai:MODEL@BASE_URL" in message
    assert "claude, gpt, tiny" in message


def test_config_names_resolve(config_file: Path) -> None:
    spec = resolve_model_spec("gpt", config_path=config_file)
    assert spec == ModelSpec(
        name="gpt",
        backend="openai",
        model="gpt-4o-mini",
        requests_per_minute=500,
        max_concurrency=4,
        extra={"top_k": 40},
        headers={"X-Team": "farm"},
    )
    assert load_models_config(config_file)["tiny"].model == SMOLLM2_MODEL
    assert load_models_config(config_file)["tiny"].options == {"n_ctx": 1024}


def test_config_from_env_and_cwd(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FARM_CONFIG", str(config_file))
    assert set(load_models_config()) == {"gpt", "claude", "tiny"}

    monkeypatch.delenv("FARM_CONFIG")
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    assert load_models_config() == {}
    (workdir / "farm.toml").write_text('[models.x]\nbackend = "openai"\nmodel = "m"\n')
    assert list(load_models_config()) == ["x"]


def test_config_missing_explicit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_models_config(tmp_path / "nope.toml")
    monkeypatch.setenv("FARM_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match="FARM_CONFIG"):
        load_models_config()


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('backend = "openai"\nmodel = "m"\ntemperature = 1', "unknown field 'temperature'"),
        ('model = "m"', "missing `backend`"),
        ('backend = "bard"\nmodel = "m"', "backend 'bard' is unknown"),
        ('backend = "openai"\nmodel = "m"\nmax_concurrency = 0', "field 'max_concurrency'"),
        ('backend = "openai"\nmodel = "m"\nmax_retries = "six"', "field 'max_retries'"),
    ],
)
def test_config_invalid_table(tmp_path: Path, table: str, expected: str) -> None:
    path = tmp_path / "farm.toml"
    path.write_text(f"[models.bad]\n{table}\n")
    with pytest.raises(ConfigError) as raised:
        load_models_config(path)
    assert expected in str(raised.value)
    assert str(path) in str(raised.value)
    assert "[models.bad]" in str(raised.value)


def test_config_unknown_field_lists_valid(tmp_path: Path) -> None:
    path = tmp_path / "farm.toml"
    path.write_text('[models.bad]\nbackend = "openai"\nmodel = "m"\nkey = "sk-x"\n')
    with pytest.raises(ConfigError, match="valid fields: backend, model, base_url"):
        load_models_config(path)


def test_config_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "farm.toml"
    path.write_text("[models.x\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_models_config(path)


def test_registry_plugin_backend() -> None:
    def factory(spec: ModelSpec) -> ScriptedBackend:
        return ScriptedBackend(lambda messages, params: "plugin", name=spec.model)

    register_backend("test-plugin", factory, replace=True)
    assert "test-plugin" in backend_names()
    backend = create_backend(ModelSpec(name="p", backend="test-plugin", model="x"))
    assert backend.cache_identity() == {"backend": "scripted", "model": "x"}
    with pytest.raises(ValueError, match="already registered"):
        register_backend("test-plugin", factory)


def test_registry_unknown_backend() -> None:
    with pytest.raises(ConfigError, match=r"registered backends: .*openai"):
        create_backend(ModelSpec(name="p", backend="nope", model="x"))


def test_models_list_cli(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value-123")
    monkeypatch.delenv("MY_CLAUDE_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    _register_commands()
    result = CliRunner().invoke(app, ["models", "list", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert set(lines) == {"gpt", "claude", "tiny", "local"}
    assert "OPENAI_API_KEY" in lines["gpt"]
    assert " set " in lines["gpt"]
    assert "MY_CLAUDE_KEY" in lines["claude"]
    assert "not set" in lines["claude"]
    assert "not needed" in lines["local"]
    assert "sk-secret-value-123" not in result.output
