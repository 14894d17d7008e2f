"""Streaming CSV reading with row numbers a spreadsheet user recognises (header = row 1)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from ops.importers.problems import ImportFailed, Reject


class CsvReader:
    """Rows of a UTF-8 CSV file as lists of strings, with their row numbers.

    Rows with the wrong number of fields or bytes that are not UTF-8 come out as
    ``Reject`` instead of values. ``bytes_read`` tells progress.
    """

    def __init__(self, stream: BinaryIO, file_name: str) -> None:
        self.file_name = file_name
        self._stream = stream
        start = stream.peek(4) if hasattr(stream, "peek") else b""
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise ImportFailed(file_name, "the file is UTF-16; save it as UTF-8")
        # utf-8-sig drops the byte order mark spreadsheet programs write; bad bytes become
        # surrogates so the row holding them can be named instead of failing the whole file.
        self._text = io.TextIOWrapper(
            stream, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        self._last_line = ""
        self._reader = csv.reader(self._lines(), strict=True)
        try:
            header = next(self._reader, None)
        except csv.Error as error:
            raise ImportFailed(
                file_name, f"the header row is not valid CSV: {error}", row=1
            ) from None
        if header is None or not any(name.strip() for name in header):
            raise ImportFailed(file_name, "the file is empty; expected a header row")
        self.header = [name.strip() for name in header]
        _check_text(self.header, file_name)
        repeated = sorted({name for name in self.header if self.header.count(name) > 1})
        if repeated:
            raise ImportFailed(file_name, f"the header repeats {', '.join(repeated)}", row=1)

    def _lines(self) -> Iterator[str]:
        # The csv module cannot tell a row ended by the end of the file from one ended
        # by a line break; the last line read can.
        for line in self._text:
            self._last_line = line
            yield line

    def release(self) -> BinaryIO:
        """Stop reading text; returns the byte stream, still open, for another reader."""
        return self._text.detach()

    @property
    def bytes_read(self) -> int:
        try:
            return int(self._stream.tell())
        except (OSError, ValueError):
            return 0

    def __iter__(self) -> Iterator[tuple[int, list[str] | Reject]]:
        row_number = 1
        width = len(self.header)
        while True:
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ImportFailed(
                    self.file_name, f"not valid CSV: {error}", row=row_number + 1
                ) from None
            row_number += 1
            if not self._last_line.endswith(("\n", "\r")):
                raise ImportFailed(
                    self.file_name,
                    "the file ends inside this row, without a line break, so it looks cut "
                    "off; if the row is complete, end the file with a line break",
                    row=row_number,
                    field=self.header[min(len(row), len(self.header)) - 1] if row else None,
                )
            if not row:
                continue
            if len(row) != width:
                yield (
                    row_number,
                    Reject(
                        row=row_number,
                        field="(row)",
                        value=",".join(row)[:80],
                        reason=f"has {len(row)} fields; the header has {width}",
                    ),
                )
                continue
            joined = "\x1f".join(row)
            if not joined.isascii():
                bad = _first_undecodable(row)
                if bad is not None:
                    yield (
                        row_number,
                        Reject(
                            row=row_number,
                            field=self.header[bad],
                            value=row[bad].encode("utf-8", "replace").decode("utf-8"),
                            reason="bytes that are not UTF-8; save the file as UTF-8",
                        ),
                    )
                    continue
            yield row_number, row


def _first_undecodable(row: list[str]) -> int | None:
    for index, value in enumerate(row):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return index
    return None


def _check_text(header: list[str], file_name: str) -> None:
    if _first_undecodable(header) is not None:
        raise ImportFailed(
            file_name, "the header has bytes that are not UTF-8; save the file as UTF-8", row=1
        )
