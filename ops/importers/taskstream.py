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

from ops.importers.chunks import collector_paused
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


class Region(msgspec.Struct, gc=False):
    """One entry of an annotation's ``result``: which control, of what type, what value."""

    type: Any = None
    value: Any = None
    from_name: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "value": self.value, "from_name": self.from_name}


class Annotation(msgspec.Struct, gc=False):
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


class Task(msgspec.Struct, gc=False):
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
                resume=(self._consumed, self._line_at_consumed(), self._elements),
            )

    def _line_at_consumed(self) -> int:
        """The line of the file at ``_consumed``, counted only when the careful reader
        takes over (it names lines in its messages), not for every block read."""
        self.stream.seek(0)
        lines = 1
        left = self._consumed
        while left > 0:
            block = self.stream.read(min(BLOCK, left))
            if not block:
                break
            lines += block.count(b"\n")
            left -= len(block)
        return lines

    def _fast(self) -> Iterator[Task]:
        # One growing buffer, never copied whole: buffer[0] is the last byte given out
        # (the list's "[" or what separates two tasks), buffer[1:] is not read yet. A block
        # is decoded in place, its first and last byte briefly made "[" and "]".
        self.stream.seek(0)
        head = self.stream.read(BLOCK)
        opening = _LEADING.match(head)
        if opening is None or head[opening.end() : opening.end() + 1] != b"{":
            self._hand_over(from_start=True)  # empty, not a list, or not a list of objects
            return
        buffer = bytearray(head)
        del head
        self._advance(buffer, opening.end())
        del buffer[: opening.end() - 1]
        eof = retried = False
        while True:
            if not eof and len(buffer) < BLOCK:
                eof = not self._read(buffer)
            if eof:
                tasks = self._decode_last(buffer)
                if tasks is None:
                    self._hand_over()
                    return
                yield from self._give(tasks, buffer, len(buffer))
                return
            candidates = self._candidates(buffer)
            if not candidates:
                if len(buffer) > MAX_ELEMENT_CHARS:
                    self._hand_over()
                    return
                eof = not self._read(buffer)
                continue
            cut = self._cut(buffer, candidates)
            if cut is None and not retried:
                # The block may hold only part of one task: read on once, then try again.
                retried = True
                eof = not self._read(buffer)
                continue
            if cut is None:
                # Not a cut problem: something in these tasks needs the careful reader.
                self._hand_over()
                return
            retried = False
            tasks, resume_at = cut
            yield from self._give(tasks, buffer, resume_at)
            del buffer[: resume_at - 1]

    def _read(self, buffer: bytearray) -> bool:
        """Append the next block of the file to ``buffer``; False at the end of the file."""
        more = self.stream.read(BLOCK)
        buffer += more
        return bool(more)

    @staticmethod
    def _candidates(buffer: bytearray) -> list[re.Match[bytes]]:
        """Places that may lie between two tasks, best first."""
        tail = max(1, len(buffer) - (1 << 20))
        for pattern in (_TASK_BOUNDARY, _BOUNDARY):
            found = list(pattern.finditer(buffer, tail)) or list(pattern.finditer(buffer, 1))
            if found:
                # The last ones give the longest blocks; the first one tells whether the
                # first task already cannot be read this way.
                return [*reversed(found[-3:]), found[0]] if len(found) > 3 else found[::-1]
        return []

    def _cut(
        self, buffer: bytearray, candidates: list[re.Match[bytes]]
    ) -> tuple[list[Task], int] | None:
        """Tasks of the longest decodable prefix and where the next task starts."""
        for match in candidates:
            end = match.start() + 1  # just after the "}" that closes a task
            saved = buffer[end]
            buffer[end] = ord("]")
            try:
                tasks = self._decode(buffer, end + 1)
            finally:
                buffer[end] = saved
            if tasks is not None:
                return tasks, match.end() - len(match.group().lstrip(b"}, \t\r\n"))
        return None

    def _decode_last(self, buffer: bytearray) -> list[Task] | None:
        """The tasks up to the end of the file, which must close the list, or None."""
        end = len(buffer)
        while end > 1 and buffer[end - 1] in b" \t\r\n":
            end -= 1
        if end <= 1 or buffer[end - 1] != ord("]"):
            return None
        return self._decode(buffer, end)

    def _decode(self, buffer: bytearray, end: int) -> list[Task] | None:
        """The tasks in ``buffer[1:end - 1]``, the byte at ``end - 1`` being "]", or None."""
        if _SURROGATE_ESCAPE.search(buffer, 1, end):
            return None
        given_out = buffer[0]
        buffer[0] = ord("[")
        try:
            # Without collections: a block makes a hundred thousand objects, none in a cycle.
            with collector_paused(), memoryview(buffer) as view, view[:end] as block:
                return _DECODER.decode(block)
        except (msgspec.DecodeError, RecursionError):
            return None
        finally:
            buffer[0] = given_out

    def _give(self, tasks: list[Task], buffer: bytearray, end: int) -> Iterator[Task]:
        """Hand out ``tasks``, then count ``buffer[1:end]`` as read."""
        yield from tasks
        self._elements += len(tasks)
        self._advance(buffer, end)

    def _advance(self, buffer: bytearray, end: int) -> None:
        """Count ``buffer[1:end]`` (all of ``buffer[:end]`` at the start) as read."""
        start = 0 if self._consumed == 0 else 1
        self._consumed += end - start
