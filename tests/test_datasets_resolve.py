"""Dataset specs (sample, farm, farm/NQ2, names in ./datasets, paths) and option shuffling."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from farm.datasets import (
    AnswerFormat,
    Item,
    Option,
    farm_data_dir,
    load_dataset,
    resolve_datasets,
    sample_dataset_path,
    shuffle_options,
)
from farm.errors import DatasetError

OFFICIAL_DIR = Path(__file__).parents[1].parent / "shared" / "datasets" / "farm"
REPO_ROOT = Path(__file__).parents[1]


@pytest.fixture
def installed_farm() -> Path:
    if not (OFFICIAL_DIR / "Boolq.jsonl").is_file():
        pytest.skip(f"the official Farm files are not in {OFFICIAL_DIR}")
    target = farm_data_dir()
    target.mkdir(parents=True)
    for path in OFFICIAL_DIR.glob("*.jsonl"):
        shutil.copy(path, target / path.name)
    return target


def test_sample_path_in_repository() -> None:
    assert sample_dataset_path().resolve() == REPO_ROOT / "datasets" / "sample.jsonl"


def test_sample_loads_mixed_formats() -> None:
    dataset = load_dataset("sample")
    formats = [item.format for item in dataset.items]
    assert dataset.name == "sample"
    assert len(dataset.items) == 24
    assert formats.count(AnswerFormat.YES_NO) == 10
    assert formats.count(AnswerFormat.MULTIPLE_CHOICE) == 14
    assert dataset.warnings == []
    for item in dataset.items:
        assert all(len(item.appeals[s]) == 3 for s in ("logical", "credibility", "emotional"))
        if item.format is AnswerFormat.MULTIPLE_CHOICE:
            assert 3 <= len(item.options) <= 4
            assert len(item.correct_options) == 1
            assert item.target_option is not None


def test_farm_not_downloaded_says_how() -> None:
    with pytest.raises(DatasetError, match=r"run `farm datasets download farm`"):
        load_dataset("farm")


def test_farm_subset_after_install(installed_farm: Path) -> None:
    dataset = load_dataset("farm/nq2")
    assert dataset.name == "farm"
    assert dataset.subsets == ["NQ2"]
    assert len(dataset.items) == 489


def test_farm_unknown_subset_rejected(installed_farm: Path) -> None:
    with pytest.raises(
        DatasetError, match=r"unknown Farm subset 'NQ3'.*Boolq, NQ1, NQ2, TruthfulQA"
    ):
        load_dataset("farm/NQ3")


def test_farm_all_subsets_and_merge(installed_farm: Path) -> None:
    (everything,) = resolve_datasets(["farm"])
    assert everything.subsets == ["Boolq", "NQ1", "NQ2", "TruthfulQA"]
    assert len(everything.items) == 1952

    (merged,) = resolve_datasets(["farm/NQ1", "farm/Boolq", "farm/NQ1"])
    assert merged.subsets == ["NQ1", "Boolq"]
    assert len(merged.items) == 488 + 491
    assert len(merged.files) == 2


def test_user_dataset_found_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "datasets").mkdir()
    shutil.copy(sample_dataset_path(), tmp_path / "datasets" / "mine.jsonl")
    monkeypatch.chdir(tmp_path)

    dataset = load_dataset("mine")
    assert dataset.name == "mine"
    assert len(dataset.items) == 24


def test_unknown_spec_names_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError, match=r"dataset 'nosuch' not found.*nosuch.jsonl"):
        load_dataset("nosuch")


def test_directory_path_loads_each_file(tmp_path: Path) -> None:
    folder = tmp_path / "pair"
    folder.mkdir()
    shutil.copy(sample_dataset_path(), folder / "b.jsonl")
    shutil.copy(sample_dataset_path(), folder / "a.jsonl")
    dataset = load_dataset(str(folder))
    assert dataset.name == "pair"
    assert dataset.subsets == ["pair"]
    assert len(dataset.items) == 48
    assert len({item.id for item in dataset.items}) == 48


def test_shuffle_options_deterministic_flags_travel() -> None:
    item = next(i for i in load_dataset("sample").items if len(i.options) == 4)
    first = shuffle_options(item, 7)
    again = shuffle_options(item, 7)
    assert first == again
    assert first.id == item.id
    assert sorted(o.text for o in first.options) == sorted(o.text for o in item.options)
    for option in first.options:
        original = next(o for o in item.options if o.text == option.text)
        assert option.correct == original.correct
        assert option.misinformation == original.misinformation
    order = first.metadata["option_order"]
    assert [item.options[n - 1] for n in order] == list(first.options)


def test_shuffle_options_seed_changes_order() -> None:
    items = [i for i in load_dataset("sample").items if i.format is AnswerFormat.MULTIPLE_CHOICE]
    orders = {
        tuple(shuffle_options(i, seed).metadata["option_order"]) for i in items for seed in (1, 2)
    }
    assert len(orders) > 3


def test_shuffle_options_known_order() -> None:
    item = Item(
        id="pinned-1",
        dataset="d",
        subset="d",
        question="q?",
        format=AnswerFormat.MULTIPLE_CHOICE,
        options=tuple(Option(text=t, correct=t == "b") for t in "abcd"),
        answer="b",
        target="a",
        control="a.",
    )
    # Pinned so that a change of the shuffling algorithm is noticed: runs with the same
    # seed must present the same order on every machine.
    assert shuffle_options(item, 0).metadata["option_order"] == [2, 1, 4, 3]


def test_shuffle_options_yes_no_unchanged() -> None:
    item = next(i for i in load_dataset("sample").items if i.format is AnswerFormat.YES_NO)
    assert shuffle_options(item, 3) is item


def test_farm_spec_ignores_local_farm_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "farm").mkdir()
    (tmp_path / "farm" / "x.jsonl").write_text("{}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError, match=r"run `farm datasets download farm`"):
        load_dataset("farm")
    with pytest.raises(DatasetError, match=r"x.jsonl: line 1: field `question`"):
        load_dataset("./farm")


def test_missing_file_path_named_plainly(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(DatasetError) as error:
        load_dataset(str(missing))
    assert str(error.value).startswith(f"dataset file {missing} not found")
