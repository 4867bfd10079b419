"""Turn a dataset spec from the command line into loaded Datasets.

A spec is `sample` (bundled), `farm` or `farm/SUBSET` (the downloaded official dataset), a
path to a file or a directory, or the name of a file or directory in `./datasets/`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import platformdirs

import farm
from farm.datasets._load import DATA_SUFFIXES, data_files, load_files
from farm.datasets._model import Dataset
from farm.datasets._official import FARM_FILES, FARM_NAME, canonical_subset
from farm.errors import DatasetError

#: Name of the bundled sample dataset.
SAMPLE_NAME = "sample"
_SAMPLE_FILE = "sample.jsonl"


def farm_home() -> Path:
    """Return farm's data root: `$FARM_HOME` when set, else the platform's user data dir."""
    home = os.environ.get("FARM_HOME")
    if home:
        return Path(home).expanduser()
    return Path(platformdirs.user_data_dir("farm"))


def farm_data_dir() -> Path:
    """Return the directory that `farm datasets download farm` installs the files into."""
    return farm_home() / "datasets" / FARM_NAME


def sample_dataset_path() -> Path:
    """Return the path of the bundled sample dataset.

    `farm/_bundled/datasets` links to the repository's top-level `datasets/` folder in a
    source checkout, and wheels carry a copy of it.
    """
    return Path(farm.__file__).parent / "_bundled" / "datasets" / _SAMPLE_FILE


def user_datasets_dir() -> Path:
    """Return the folder searched for users' datasets by name: `./datasets/`."""
    return Path.cwd() / "datasets"


def find_user_dataset(name: str) -> Path | None:
    """Return `./datasets/NAME.<suffix>` or the directory `./datasets/NAME`, if one exists."""
    folder = user_datasets_dir()
    for suffix in DATA_SUFFIXES:
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    candidate = folder / name
    return candidate if candidate.is_dir() else None


def _farm_files(subset: str | None) -> list[Path]:
    directory = farm_data_dir()
    if subset is None:
        wanted = list(FARM_FILES)
    else:
        canonical = canonical_subset(subset)
        if canonical is None:
            raise DatasetError(
                f"unknown Farm subset {subset!r}; use one of {', '.join(FARM_FILES)} "
                "(any letter case), for example farm/NQ2"
            )
        wanted = [canonical]

    files = [directory / FARM_FILES[name][0] for name in wanted]
    missing = [path.name for path in files if not path.is_file()]
    if missing:
        raise DatasetError(
            f"the Farm dataset is not downloaded ({', '.join(missing)} not found in "
            f"{directory}); run `farm datasets download farm`"
        )
    return files


def _path_files(path: Path) -> tuple[list[Path], str | None]:
    if path.is_file():
        return [path], None
    files = data_files(path)
    if not files:
        raise DatasetError(
            f"no dataset files in directory {path}; expected files ending in "
            f"{', '.join(DATA_SUFFIXES)}"
        )
    return files, path.resolve().name


def resolve_files(spec: str) -> tuple[list[Path], str | None]:
    """Return the files a spec names and the dataset name to use (None: infer from files)."""
    head, _, subset = spec.partition("/")
    if spec == SAMPLE_NAME:
        path = sample_dataset_path()
        if not path.is_file():
            raise DatasetError(
                f"the bundled sample dataset is missing ({path} not found); reinstall farm "
                "from a source checkout with `pip install -e .`"
            )
        return [path], SAMPLE_NAME
    # `farm` and `farm/SUBSET` name the official dataset even when the current directory has
    # a `farm` folder (a source checkout has the package there); write `./farm` for the folder.
    if head.lower() == FARM_NAME and (not subset or canonical_subset(subset)):
        return _farm_files(subset or None), FARM_NAME
    if head.lower() == FARM_NAME and not Path(spec).exists():
        return _farm_files(subset), FARM_NAME

    path = Path(spec).expanduser()
    if path.exists():
        return _path_files(path)
    user_path = find_user_dataset(spec)
    if user_path is not None:
        files, _ = _path_files(user_path)
        return files, spec
    if "/" in spec or "\\" in spec or path.suffix.lower() in DATA_SUFFIXES:
        raise DatasetError(
            f"dataset file {path} not found. Check the path, or name a dataset: sample, farm, "
            "farm/SUBSET, or a file in ./datasets/."
        )
    raise DatasetError(
        f"dataset {spec!r} not found: it is not `sample`, `farm` or `farm/SUBSET`, not an "
        f"existing file or directory, and not in {user_datasets_dir()} (looked for "
        f"{spec}.jsonl, .csv, .parquet or a folder {spec}/); check the spelling or "
        "run `farm datasets list`"
    )


def load_dataset(spec: str, *, skip_invalid: bool = False) -> Dataset:
    """Load one dataset by spec; raise DatasetError naming the file and line of a problem."""
    files, name = resolve_files(spec)
    return load_files(files, name, skip_invalid=skip_invalid)


def _merge(datasets: list[Dataset]) -> Dataset:
    first = datasets[0]
    items = list(first.items)
    seen = {item.id for item in items}
    files = list(first.files)
    warnings = list(first.warnings)
    for dataset in datasets[1:]:
        items += [item for item in dataset.items if item.id not in seen]
        seen.update(item.id for item in dataset.items)
        files += [path for path in dataset.files if path not in files]
        warnings += [warning for warning in dataset.warnings if warning not in warnings]

    digest = hashlib.sha256()
    for path in files:
        digest.update(Path(path).read_bytes())
    versions = {dataset.version for dataset in datasets}
    return first.model_copy(
        update={
            "items": items,
            "files": files,
            "warnings": warnings,
            "content_hash": digest.hexdigest(),
            "skipped": sum(dataset.skipped for dataset in datasets),
            "version": first.version if len(versions) == 1 else "mixed",
        }
    )


def resolve_datasets(specs: list[str], *, skip_invalid: bool = False) -> list[Dataset]:
    """Load several specs; specs that give the same dataset name (farm/NQ1 farm/NQ2) merge."""
    by_name: dict[str, list[Dataset]] = {}
    for spec in specs:
        dataset = load_dataset(spec, skip_invalid=skip_invalid)
        by_name.setdefault(dataset.name, []).append(dataset)
    return [_merge(group) if len(group) > 1 else group[0] for group in by_name.values()]
