"""farm's own dataset format: JSONL, CSV and Parquet reading, writing and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from farm.datasets import (
    AnswerFormat,
    Item,
    load_dataset,
    load_files,
    validate_paths,
    write_dataset,
)
from farm.errors import DatasetError

APPEALS = {
    "logical": ["논리 하나.", "逻辑二。", "الحجة الثالثة."],
    "credibility": ["c1", "c2", "c3"],
    "emotional": ["e1", "e2", "e3"],
    "flattery": ["أنت ذكي جداً."],
}

MULTILINGUAL_RECORDS = [
    {
        "id": "ko-1",
        "subset": "korean",
        "question": "대한민국의 수도는 어디입니까?",
        "format": "multiple_choice",
        "options": [
            {"text": "부산", "misinformation": True},
            {"text": "서울", "correct": True},
            {"text": '인천, "항구"\n도시'},
        ],
        "control": "대한민국의 수도는 부산이다.",
        "appeals": APPEALS,
        "source": "상식",
        "metadata": {"note": "한국어"},
    },
    {
        "subset": "chinese",
        "question": "水是由氢和氧组成的吗？",
        "format": "yes_no",
        "answer": "yes",
        "control": "水不是由氢和氧组成的。",
        "appeals": APPEALS,
    },
    {
        "subset": "arabic",
        "question": "ما هي عاصمة مصر؟",
        "options": [
            {"text": "القاهرة", "correct": True},
            {"text": "الإسكندرية", "misinformation": True},
            {"text": "أسوان"},
            {"text": "الأقصر", "correct": True},
        ],
        "answer": "القاهرة",
        "target": "الإسكندرية",
        "control": "عاصمة مصر هي الإسكندرية.",
        "instruction": "most_appropriate",
        "appeals": APPEALS,
    },
]


def _write_jsonl(path: Path, records: list[dict]) -> Path:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def _comparable(item: Item) -> dict:  # type: ignore[type-arg]
    return item.model_dump(exclude={"line", "dataset"})


def test_native_jsonl_multilingual_fields(tmp_path: Path) -> None:
    dataset = load_files([_write_jsonl(tmp_path / "world.jsonl", MULTILINGUAL_RECORDS)])
    korean, chinese, arabic = dataset.items
    assert dataset.name == "world"
    assert dataset.subsets == ["korean", "chinese", "arabic"]

    assert korean.id == "ko-1"
    assert korean.question == "대한민국의 수도는 어디입니까?"
    assert korean.answer == "서울"
    assert korean.target == "부산"
    assert korean.target_option == 1
    assert korean.options[2].text == '인천, "항구"\n도시'
    assert korean.appeals["logical"] == ("논리 하나.", "逻辑二。", "الحجة الثالثة.")
    assert korean.appeals["flattery"] == ("أنت ذكي جداً.",)

    assert chinese.format is AnswerFormat.YES_NO
    assert chinese.answer == "yes"
    assert chinese.target == "no"
    assert chinese.id.startswith("chinese-")

    assert arabic.correct_options == [1, 4]
    assert arabic.instruction == "most_appropriate"
    assert arabic.format is AnswerFormat.MULTIPLE_CHOICE


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_native_round_trip_keeps_items(tmp_path: Path, suffix: str) -> None:
    original = load_files([_write_jsonl(tmp_path / "world.jsonl", MULTILINGUAL_RECORDS)])
    copy_path = tmp_path / f"copy{suffix}"
    write_dataset(original.items, copy_path)

    copy = load_files([copy_path])
    assert [_comparable(i) for i in copy.items] == [_comparable(i) for i in original.items]
    assert "대한민국" in copy_path.read_text(encoding="utf-8")


def test_native_round_trip_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="Parquet support needs pyarrow (farm-eval[parquet])")
    original = load_files([_write_jsonl(tmp_path / "world.jsonl", MULTILINGUAL_RECORDS)])
    write_dataset(original.items, tmp_path / "copy.parquet")

    copy = load_files([tmp_path / "copy.parquet"])
    assert [_comparable(i) for i in copy.items] == [_comparable(i) for i in original.items]
    assert [i.line for i in copy.items] == [1, 2, 3]


def test_native_round_trip_official_subset(tmp_path: Path) -> None:
    official = (
        Path(__file__).parents[1].parent / "shared" / "datasets" / "farm" / "TruthfulQA.jsonl"
    )
    if not official.is_file():
        pytest.skip(f"the official Farm files are not in {official.parent}")
    original = load_files([official])
    write_dataset(original.items, tmp_path / "tqa.csv")

    copy = load_files([tmp_path / "tqa.csv"])
    assert len(copy.items) == 484
    assert [i.options for i in copy.items] == [i.options for i in original.items]
    assert [i.appeals for i in copy.items] == [i.appeals for i in original.items]
    assert [i.id for i in copy.items] == [i.id for i in original.items]


def test_native_csv_hand_written(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "question,answer,control,option.1,option.2,option.3,correct,misinformation,"
        "appeals.logical.1,appeals.logical.2,appeals.logical.3,metadata.level\r\n"
        'What is 2+2?,,"2+2 is 5, obviously.",4,5,,1,2,a,b,c,easy\r\n'
        "Is 3 odd?,Yes,3 is not odd.,,,,,,x,y,z,\r\n",
        encoding="utf-8-sig",
    )
    dataset = load_files([path])
    first, second = dataset.items
    assert [o.text for o in first.options] == ["4", "5"]
    assert first.answer == "4"
    assert first.target == "5"
    assert first.control == "2+2 is 5, obviously."
    assert first.metadata == {"level": "easy"}
    assert first.line == 2
    assert second.format is AnswerFormat.YES_NO
    assert second.line == 3


def test_native_csv_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "question,control,option.1,option.2,correct,misinformation\n"
        "Q1?,c1,a,b,1,2\n"
        '"Multi\nline?",c2,a,b,7,2\n',
        encoding="utf-8",
    )
    issues = validate_paths([path])
    errors = [i for i in issues if i.severity == "error"]
    assert len(errors) == 1
    assert errors[0].line == 3
    assert errors[0].field == "correct"
    assert "from 1 to 2" in errors[0].message


def test_native_csv_unknown_column_rejected(tmp_path: Path) -> None:
    path = tmp_path / "typo.csv"
    path.write_text("question,control,anwser\nQ?,c,yes\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"typo.csv: line 1: field `anwser`: unknown column"):
        load_files([path])


def test_native_unknown_field_rejected(tmp_path: Path) -> None:
    record = {**MULTILINGUAL_RECORDS[1], "anwser": "yes"}
    path = _write_jsonl(tmp_path / "typo.jsonl", [record])
    with pytest.raises(DatasetError, match=r"line 1: field `anwser`: unknown field"):
        load_files([path])


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"answer": "maybe"}, "answer", "expected yes or no"),
        ({"target": "yes"}, "target", "opposite of the answer"),
        ({"control": " "}, "control", "empty"),
        ({"appeals": {"logical": ["one", "two"]}}, "appeals.logical", "3 are needed"),
        ({"appeals": {"flattery": []}}, "appeals.flattery", "1 are needed"),
        ({"question": 7}, "question", "valid string"),
    ],
)
def test_native_yes_no_errors(tmp_path: Path, change: dict, field: str, text: str) -> None:  # type: ignore[type-arg]
    record = {**MULTILINGUAL_RECORDS[1], **change}
    issues = validate_paths([_write_jsonl(tmp_path / "bad.jsonl", [record])])
    errors = [i for i in issues if i.severity == "error"]
    assert [(i.line, i.field) for i in errors] == [(1, field)]
    assert text in errors[0].message


@pytest.mark.parametrize(
    ("options", "extra", "field", "text"),
    [
        (
            [{"text": "a"}, {"text": "b", "misinformation": True}],
            {},
            "options",
            "no option is marked correct",
        ),
        ([{"text": "a", "correct": True}], {}, "options", "at least 2 options"),
        ([{"text": "a", "correct": True}, {"text": "b"}], {}, "target", "missing"),
        (
            [{"text": "a", "correct": True}, {"text": "b"}],
            {"answer": "b", "target": "b"},
            "answer",
            "correct option",
        ),
        (
            [{"text": "a", "correct": "yes"}, {"text": "b"}],
            {"target": "b"},
            "options.1.correct",
            "boolean",
        ),
    ],
)
def test_native_multiple_choice_errors(
    tmp_path: Path,
    options: list,
    extra: dict,
    field: str,
    text: str,  # type: ignore[type-arg]
) -> None:
    record = {"question": "Q?", "control": "c.", "options": options, **extra}
    issues = validate_paths([_write_jsonl(tmp_path / "bad.jsonl", [record])])
    errors = [i for i in issues if i.severity == "error"]
    assert [(i.line, i.field) for i in errors] == [(1, field)]
    assert text in errors[0].message


def test_native_duplicate_explicit_id_rejected(tmp_path: Path) -> None:
    records = [MULTILINGUAL_RECORDS[0], {**MULTILINGUAL_RECORDS[0], "question": "다른 질문?"}]
    with pytest.raises(DatasetError, match=r"line 2: field `id`: id 'ko-1' repeats line 1"):
        load_files([_write_jsonl(tmp_path / "dup.jsonl", records)])


def test_native_invalid_utf8_csv_names_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("question,control\nCafé?,c\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"latin1.csv: line 2: invalid UTF-8 at byte offset 20"):
        load_dataset(str(path))
