"""The canonical events file (CSV or Parquet), documented in docs/events-format.md."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ops.importers.chunks import RawChunk
from ops.importers.csvfile import CsvReader
from ops.importers.problems import ImportFailed, Reject

REQUIRED_COLUMNS = ("project", "item_id", "annotator", "submitted_at", "external_id")
OPTIONAL_COLUMNS = (
    "label",
    "active_seconds",
    "skipped",
    "escalated",
    "gold_label",
    "reviewer",
    "review_outcome",
    "review_seconds",
    "reviewed_at",
    "guideline_version",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
CHUNK_ROWS = 100_000
# How much of a CSV file Arrow parses at a time.
ARROW_BLOCK_BYTES = 1 << 24
PARQUET_MAGIC = b"PAR1"


def check_columns(names: list[str], file_name: str) -> None:
    """Refuse a header with required columns missing or with unknown columns."""
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    unknown = [name for name in names if name not in COLUMNS]
    problems = []
    if missing:
        problems.append(f"missing required column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if problems:
        raise ImportFailed(
            file_name,
            "; ".join(problems)
            + f". Columns are: {', '.join(COLUMNS)} (see docs/events-format.md)",
            row=1,
        )


class EventsReader:
    """Reads the canonical events file into RawChunks; ``bytes_read`` tells progress."""

    def __init__(self, stream: BinaryIO, file_name: str) -> None:
        self.stream = stream
        self.file_name = file_name
        self.format: str | None = None
        self._csv: CsvReader | None = None
        self._parquet_rows = 0
        self._parquet_total = 0
        self._size = 0

    @property
    def bytes_read(self) -> int:
        if self._csv is not None:
            return self._csv.bytes_read
        if self._parquet_total:
            return int(self._size * self._parquet_rows / self._parquet_total)
        return 0

    def chunks(self) -> Iterator[RawChunk]:
        head = self.stream.peek(4)[:4] if hasattr(self.stream, "peek") else b""
        if head == PARQUET_MAGIC:
            self.format = "parquet"
            yield from self._parquet_chunks()
        else:
            self.format = "csv"
            self._csv = CsvReader(self.stream, self.file_name)
            check_columns(self._csv.header, self.file_name)
            if not self.stream.seekable() or not _ends_with_line_break(self.stream):
                # The row-by-row reader also names a last row cut off without a line break.
                yield from self._csv_chunks(self._csv)
                return
            # A plain file (no blank or ragged rows, all UTF-8) is parsed by Arrow in
            # blocks; at the first row it cannot take, the row-by-row reader takes over
            # from there and names the row.
            header = self._csv.header
            self.stream = self._csv.release()
            self.stream.seek(0)
            done = 1
            try:
                for chunk in _arrow_csv_chunks(self.stream, header):
                    done = chunk.rows[-1]
                    yield chunk
                return
            except pa.ArrowInvalid:
                pass
            self.stream.seek(0)
            self._csv = CsvReader(self.stream, self.file_name)
            yield from self._csv_chunks(self._csv, after=done)

    def _csv_chunks(self, reader: CsvReader, *, after: int = 1) -> Iterator[RawChunk]:
        """Chunks of the rows after row ``after``, read row by row."""
        check_columns(reader.header, self.file_name)
        header = reader.header
        rows: list[int] = []
        records: list[list[str]] = []
        rejects: list[Reject] = []
        for row, values in reader:
            if row <= after:
                continue
            if isinstance(values, Reject):
                rejects.append(values)
                continue
            rows.append(row)
            records.append(values)
            if len(rows) >= CHUNK_ROWS:
                yield _chunk(header, rows, records, rejects)
                rows, records, rejects = [], [], []
        if rows or rejects:
            yield _chunk(header, rows, records, rejects)
        elif reader.header and not rows and not rejects:
            return

    def _parquet_chunks(self) -> Iterator[RawChunk]:
        try:
            parquet = pq.ParquetFile(self.stream)
        except (pa.ArrowInvalid, OSError) as error:
            raise ImportFailed(self.file_name, f"not a readable Parquet file: {error}") from None
        names = list(parquet.schema_arrow.names)
        check_columns(names, self.file_name)
        for column in parquet.schema_arrow:
            kind = column.type
            if pa.types.is_dictionary(kind):
                kind = kind.value_type
            if pa.types.is_nested(kind):
                raise ImportFailed(
                    self.file_name,
                    f"the column holds {kind} values; use text, numbers, booleans or "
                    "timestamps (one value per cell)",
                    row=1,
                    field=column.name,
                )
        self._parquet_total = max(parquet.metadata.num_rows, 1)
        self.stream.seek(0, 2)
        self._size = self.stream.tell()
        first = 1
        try:
            for batch in parquet.iter_batches(batch_size=CHUNK_ROWS):
                count = batch.num_rows
                columns: dict[str, Any] = {name: batch.column(name) for name in names}
                yield RawChunk(columns=columns, rows=list(range(first, first + count)))
                first += count
                self._parquet_rows += count
        except (pa.ArrowInvalid, OSError) as error:
            raise ImportFailed(
                self.file_name, f"cannot read Parquet rows from row {first}: {error}"
            ) from None


def _ends_with_line_break(stream: BinaryIO) -> bool:
    """Whether the seekable ``stream`` ends with a line break; its position is kept."""
    position = stream.tell()
    try:
        stream.seek(-1, io.SEEK_END)
        return stream.read(1) in (b"\n", b"\r")
    except OSError:
        return False
    finally:
        stream.seek(position)


def _arrow_csv_chunks(stream: BinaryIO, header: list[str]) -> Iterator[RawChunk]:
    """Chunks of a CSV file parsed by Arrow, every field as text; raises ArrowInvalid at
    the first block holding a row it cannot take (which the row-by-row reader names)."""
    read = pa_csv.ReadOptions(
        skip_rows=1,
        autogenerate_column_names=True,
        block_size=ARROW_BLOCK_BYTES,
        use_threads=False,
    )
    parse = pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False)
    convert = pa_csv.ConvertOptions(
        column_types={f"f{index}": pa.string() for index in range(len(header))},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    reader = pa_csv.open_csv(
        stream, read_options=read, parse_options=parse, convert_options=convert
    )
    if reader.schema.names != [f"f{index}" for index in range(len(header))]:
        raise pa.ArrowInvalid("the rows do not have the header's fields")
    first = 2
    pending: list[pa.RecordBatch] = []
    size = 0
    for batch in reader:
        pending.append(batch)
        size += batch.num_rows
        if size >= CHUNK_ROWS:
            yield _arrow_chunk(header, pending, first)
            first += size
            pending, size = [], 0
    if size:
        yield _arrow_chunk(header, pending, first)


def _arrow_chunk(header: list[str], batches: list[pa.RecordBatch], first: int) -> RawChunk:
    table = pa.Table.from_batches(batches)
    columns: dict[str, Any] = {
        name: table.column(index).combine_chunks() for index, name in enumerate(header)
    }
    return RawChunk(columns=columns, rows=list(range(first, first + table.num_rows)))


def _chunk(
    header: list[str], rows: list[int], records: list[list[str]], rejects: list[Reject]
) -> RawChunk:
    columns: dict[str, Any] = {}
    if records:
        for name, values in zip(header, zip(*records, strict=True), strict=True):
            columns[name] = pa.array(values, pa.string())
    else:
        columns = {name: pa.array([], pa.string()) for name in header}
    return RawChunk(columns=columns, rows=rows, rejects=rejects)
