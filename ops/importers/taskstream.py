"""Label Studio JSON tasks read fast: msgspec decodes a block of tasks at a time into small
typed records, skipping every field annops does not use (task data, predictions, ids of
result regions), so most of the file is scanned but never turned into Python objects.

A block ends at a ``},`` that closes a task. Where that lies cannot be known without
parsing, so a candidate is tried: a block decodes as a JSON list only if it was cut
between two top-level elements of a valid file. Anything unusual (a task of another
shape, a value of an unexpected type, a surrogate escape, a file that is not valid
JSON) hands the rest of the file, from the first element not yet given out, to
``JsonArrayReader``, which reads one element at a time and names what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import msgspec

from ops.importers.jsonstream import MAX_ELEMENT_CHARS, JsonArrayReader

BLOCK = 8 << 20
# A place between two tasks as Label Studio writes them ({"id": 7, "annotations": [...),
# and, failing that, between any two objects.
_TASK_BOUNDARY = re.compile(
    rb'\}[ \t\r\n]*,[ \t\r\n]*\{[ \t\r\n]*"id"[ \t\r\n]*:[ \t\r\n]*\d+[ \t\r\n]*,'
    rb'[ \t\r\n]*"annotations"'
)
_BOUNDARY = re.compile(rb"\}[ \t\r\n]*,[ \t\r\n]*\{")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LEADING = re.compile(rb"(\xef\xbb\xbf)?[ \t\r\n]*\[[ \t\r\n]*")


class Region(msgspec.Struct):
    """One entry of an annotation's ``result``: which control, of what type, what value."""

    type: Any = None
    value: Any = None
    from_name: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "value": self.value, "from_name": self.from_name}


class Annotation(msgspec.Struct):
    """The fields of a Label Studio annotation annops reads."""

    id: Any = None
    completed_by: Any = None
    # Regions on the fast path; whatever the file holds on the element-by-element one.
    result: list[Region] | None = None
    was_cancelled: Any = None
    ground_truth: Any = None
    created_at: Any = None
    updated_at: Any = None
    lead_time: Any = None
    last_action: Any = None
    reviews: Any = None


class Task(msgspec.Struct):
    """A task with its annotations; a task without the list is not read on this path."""

    annotations: list[Annotation]
    id: Any = None


_DECODER = msgspec.json.Decoder(list[Task])


ANNOTATION_FIELDS = Annotation.__struct_fields__


def as_annotation(value: dict[str, Any]) -> Annotation:
    """An annotation object read element by element, as the record this path makes."""
    return Annotation(**{name: value.get(name) for name in ANNOTATION_FIELDS})


class TaskArrayReader:
    """Iterates the tasks of a Label Studio JSON export as dicts of the fields annops reads.

    ``bytes_read`` tells progress. ``stream`` must be seekable (a file).
    """

    def __init__(self, stream: BinaryIO, file_name: str) -> None:
        self.stream = stream
        self.file_name = file_name
        self._consumed = 0  # bytes of the file given out as tasks (or skipped as syntax)
        self._lines = 1  # line of the file at _consumed
        self._elements = 0
        self._slow: JsonArrayReader | None = None

    @property
    def bytes_read(self) -> int:
        return self._slow.bytes_read if self._slow is not None else self._consumed

    def __iter__(self) -> Iterator[Task | Any]:
        """Tasks as ``Task`` records, and, after a hand-over, elements as decoded JSON."""
        yield from self._fast()
        if self._slow is None:
            return
        yield from self._slow

    def _hand_over(self, *, from_start: bool = False) -> None:
        if from_start:
            self.stream.seek(0)
            self._slow = JsonArrayReader(self.stream, self.file_name)
        else:
            self._slow = JsonArrayReader(
                self.stream,
                self.file_name,
                resume=(self._consumed, self._lines, self._elements),
            )

    def _fast(self) -> Iterator[Task]:
        self.stream.seek(0)
        buffer = self.stream.read(BLOCK)
        opening = _LEADING.match(buffer)
        if opening is None or buffer[opening.end() : opening.end() + 1] != b"{":
            self._hand_over(from_start=True)  # empty, not a list, or not a list of objects
            return
        self._advance(buffer[: opening.end()])
        buffer = buffer[opening.end() :]
        eof = retried = False
        while True:
            if not eof and len(buffer) < BLOCK:
                more = self.stream.read(BLOCK)
                eof = not more
                buffer += more
            if eof:
                tasks = self._decode(buffer, len(buffer))
                if tasks is None or not self._ends_list(buffer):
                    self._hand_over()
                    return
                yield from self._give(tasks, buffer)
                return
            candidates = self._candidates(buffer)
            if not candidates:
                if len(buffer) > MAX_ELEMENT_CHARS:
                    self._hand_over()
                    return
                more = self.stream.read(BLOCK)
                eof = not more
                buffer += more
                continue
            cut = self._cut(buffer, candidates)
            if cut is None and not retried:
                # The block may hold only part of one task: read on once, then try again.
                retried = True
                more = self.stream.read(BLOCK)
                eof = not more
                buffer += more
                continue
            if cut is None:
                # Not a cut problem: something in these tasks needs the careful reader.
                self._hand_over()
                return
            retried = False
            tasks, resume_at = cut
            yield from self._give(tasks, buffer[:resume_at])
            buffer = buffer[resume_at:]

    @staticmethod
    def _candidates(buffer: bytes) -> list[re.Match[bytes]]:
        """Places that may lie between two tasks, best first."""
        tail = max(0, len(buffer) - (1 << 20))
        for pattern in (_TASK_BOUNDARY, _BOUNDARY):
            found = list(pattern.finditer(buffer, tail)) or list(pattern.finditer(buffer))
            if found:
                # The last ones give the longest blocks; the first one tells whether the
                # first task already cannot be read this way.
                return [*reversed(found[-3:]), found[0]] if len(found) > 3 else found[::-1]
        return []

    def _cut(
        self, buffer: bytes, candidates: list[re.Match[bytes]]
    ) -> tuple[list[Task], int] | None:
        """Tasks of the longest decodable prefix and where the next task starts."""
        for match in candidates:
            tasks = self._decode(buffer, match.start() + 1)
            if tasks is not None:
                return tasks, match.end() - len(match.group().lstrip(b"}, \t\r\n"))
        return None

    def _decode(self, buffer: bytes, end: int) -> list[Task] | None:
        """The tasks in ``buffer[:end]`` (a run of elements, or the list's end), or None."""
        body = buffer[:end]
        if _SURROGATE_ESCAPE.search(body):
            return None
        text = b"[" + body if body.rstrip().endswith(b"]") else b"[" + body + b"]"
        try:
            return _DECODER.decode(text)
        except (msgspec.DecodeError, RecursionError):
            return None

    @staticmethod
    def _ends_list(buffer: bytes) -> bool:
        return buffer.rstrip().endswith(b"]")

    def _give(self, tasks: list[Task], consumed: bytes) -> Iterator[Task]:
        yield from tasks
        self._elements += len(tasks)
        self._advance(consumed)

    def _advance(self, consumed: bytes) -> None:
        self._consumed += len(consumed)
        self._lines += consumed.count(b"\n")
