"""What can be wrong with an import file, said so a person can find and fix it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ops.errors import ValidationError
from ops.exports import SafeWriter

# Longest cell value quoted back in a message or a rejects file.
MAX_QUOTED = 80


def quote(value: object) -> str:
    """A short printable form of a bad value."""
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…"


@dataclass(frozen=True)
class Reject:
    """One row that cannot be imported: where, which field, what value, why."""

    row: int
    field: str
    value: str
    reason: str


class ImportFailed(ValidationError):
    """The file cannot be imported; nothing was stored. The message names file, row, field."""

    def __init__(
        self,
        file_name: str,
        reason: str,
        *,
        row: int | None = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        where = [file_name]
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field}")
        shown = f" (value {quote(value)!r})" if value not in (None, "") else ""
        # One line, whatever a parser's own message held.
        message = " ".join(f"{', '.join(where)}: {reason}{shown}".split())
        super().__init__(message, field=field)
        self.file_name = file_name
        self.row = row
        self.reason = reason

    @classmethod
    def from_reject(cls, file_name: str, reject: Reject) -> ImportFailed:
        return cls(file_name, reject.reason, row=reject.row, field=reject.field, value=reject.value)


REJECT_COLUMNS = ("row", "field", "value", "reason")


def rejects_unwritable(file_name: str, path: Path, error: OSError | str) -> ImportFailed:
    """The one-line refusal of a ``--rejects`` path that cannot be written."""
    reason = error if isinstance(error, str) else (error.strerror or str(error)).lower()
    return ImportFailed(
        file_name,
        f"cannot write the rejects file {quote(str(path))}: {reason}; "
        "name a file in a folder that exists and you may write to",
        field="rejects",
    )


def check_rejects_path(file_name: str, path: Path) -> None:
    """Refuse, before anything is read, a rejects path that cannot be written."""
    if path.is_dir():
        raise rejects_unwritable(file_name, path, "it is a folder")
    folder = path.parent
    if not folder.is_dir():
        raise rejects_unwritable(file_name, path, f"there is no folder {quote(str(folder))}")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise rejects_unwritable(file_name, path, "permission denied")


class RejectWriter:
    """Writes rejected rows to a CSV file, opened on the first reject."""

    def __init__(self, path: Path | None, file_name: str = "") -> None:
        self.path = path
        self.file_name = file_name
        self.count = 0
        self._file: object | None = None
        self._writer: SafeWriter | None = None

    def write(self, rejects: list[Reject]) -> None:
        if not rejects:
            return
        self.count += len(rejects)
        if self.path is None:
            return
        if self._writer is None:
            try:
                handle = self.path.open("w", newline="", encoding="utf-8")
            except OSError as error:
                raise rejects_unwritable(self.file_name, self.path, error) from None
            self._file = handle
            self._writer = SafeWriter(handle, REJECT_COLUMNS)
        for reject in rejects:
            self._writer.write(
                {
                    "row": reject.row,
                    "field": reject.field,
                    "value": quote(reject.value),
                    "reason": reject.reason,
                }
            )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # type: ignore[attr-defined]
            self._file = None

    def __enter__(self) -> RejectWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
