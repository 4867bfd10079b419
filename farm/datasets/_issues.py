"""Problems found in dataset files, collected so that one pass reports all of them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from farm.errors import DatasetError


class Issue(BaseModel):
    """One problem in a dataset file: an error stops loading, a warning does not."""

    severity: Literal["error", "warning"] = Field(description="`error` or `warning`.")
    file: str = Field(description="Path of the dataset file.")
    line: int | None = Field(
        default=None, description="1-based line (or CSV line, or Parquet row); None for the file."
    )
    field: str | None = Field(default=None, description="Record field, for example `adv.control`.")
    message: str = Field(description="What is wrong and what to do about it.")

    def __str__(self) -> str:
        place = self.file if self.line is None else f"{self.file}: line {self.line}"
        if self.field:
            place = f"{place}: field `{self.field}`"
        return f"{place}: {self.message}"


class IssueLog:
    """Collects the issues of one file; loaders report through it instead of raising."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[Issue] = []

    def error(self, line: int | None, field: str | None, message: str) -> None:
        self.issues.append(
            Issue(severity="error", file=self.file, line=line, field=field, message=message)
        )

    def warning(self, line: int | None, field: str | None, message: str) -> None:
        self.issues.append(
            Issue(severity="warning", file=self.file, line=line, field=field, message=message)
        )

    def errors_at(self, line: int | None) -> list[Issue]:
        """Return the errors reported for one line (or for the whole file when line is None)."""
        return [i for i in self.issues if i.severity == "error" and i.line == line]


def raise_for_errors(issues: list[Issue]) -> None:
    """Raise a DatasetError that quotes the first error and counts the rest."""
    errors = [issue for issue in issues if issue.severity == "error"]
    if not errors:
        return
    message = str(errors[0])
    if len(errors) > 1:
        message += (
            f" (and {len(errors) - 1} more errors; run `farm datasets validate` "
            "on the file to list them all)"
        )
    raise DatasetError(message)
