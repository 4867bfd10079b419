"""Writing Items in the farm-native format (JSONL, CSV or Parquet, chosen by file ending)."""

from __future__ import annotations

import json
from pathlib import Path

from farm.datasets._model import Item
from farm.datasets._tabular import native_record, write_csv, write_parquet
from farm.errors import DatasetError


def write_dataset(items: list[Item], path: Path) -> None:
    """Write items to `path` as farm-native JSONL, CSV or Parquet (UTF-8 text)."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            for item in items:
                handle.write(json.dumps(native_record(item), ensure_ascii=False) + "\n")
    elif suffix == ".csv":
        write_csv(items, path)
    elif suffix == ".parquet":
        try:
            write_parquet(items, path)
        except ImportError as error:
            raise DatasetError(
                "writing Parquet needs pyarrow: pip install 'farm-eval[parquet]'"
            ) from error
    else:
        raise DatasetError(f"cannot write {path}: use a .jsonl, .csv or .parquet file name")
