"""Datasets: loaders for the official Farm files and farm's own format, validation, download.

`load_dataset("sample")`, `load_dataset("farm/NQ2")` or `load_dataset("path/to/file.csv")`
return a `Dataset` of `Item`s; `validate_paths` lists every problem in files without
stopping at the first one.
"""

from farm.datasets._download import download_farm, is_installed
from farm.datasets._issues import Issue
from farm.datasets._load import DATA_SUFFIXES, data_files, load_files
from farm.datasets._model import (
    APPEAL_STRATEGIES,
    AnswerFormat,
    Dataset,
    Item,
    Option,
    item_content_id,
)
from farm.datasets._official import FARM_BASE_URL, FARM_COMMIT, FARM_FILES
from farm.datasets._resolve import (
    SAMPLE_NAME,
    farm_data_dir,
    farm_home,
    find_user_dataset,
    load_dataset,
    resolve_datasets,
    resolve_files,
    sample_dataset_path,
    user_datasets_dir,
)
from farm.datasets._shuffle import shuffle_options
from farm.datasets._validate import validate_paths
from farm.datasets._write import write_dataset

__all__ = [
    "APPEAL_STRATEGIES",
    "DATA_SUFFIXES",
    "FARM_BASE_URL",
    "FARM_COMMIT",
    "FARM_FILES",
    "SAMPLE_NAME",
    "AnswerFormat",
    "Dataset",
    "Issue",
    "Item",
    "Option",
    "data_files",
    "download_farm",
    "farm_data_dir",
    "farm_home",
    "find_user_dataset",
    "is_installed",
    "item_content_id",
    "load_dataset",
    "load_files",
    "resolve_datasets",
    "resolve_files",
    "sample_dataset_path",
    "shuffle_options",
    "user_datasets_dir",
    "validate_paths",
    "write_dataset",
]
