"""Read a JSON array one element at a time, so memory stays flat for large exports.

The C scanner of the standard library decodes each element from a sliding text
window; only the element being decoded and one read block are held at once.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from ops.importers.problems import ImportFailed

READ_BLOCK = 4 << 20
# One element larger than this is not a Label Studio task; stop rather than grow forever.
MAX_ELEMENT_CHARS = 64 << 20

# A \uD800-\uDFFF escape: half of a surrogate pair, or a lone one that is not text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER_TAIL = re.compile(r"[0-9.eE+-]*")
_DECODER = json.JSONDecoder()


class JsonArrayReader:
    """Iterates the elements of the top-level JSON array in ``stream``.

    ``bytes_read`` tells how far into the file the reader is, for progress bars.
    Errors raise ImportFailed with the line and the element's position.
    """

    def __init__(
        self,
        stream: BinaryIO,
        file_name: str,
        *,
        resume: tuple[int, int, int] | None = None,
    ) -> None:
        """``resume=(byte offset, line, elements before)`` goes on inside the list at the
        start of an element, where a faster reader left off."""
        self.stream = stream
        self.file_name = file_name
        self.bytes_read = 0
        # utf-8-sig drops the byte order mark Windows tools write, even split across blocks.
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self._buffer = ""
        self._position = 0
        # Lines fully consumed and dropped from the buffer, for line numbers in messages.
        self._base_line = 1
        self._eof = False
        self._resume = resume
        if resume is not None:
            offset, self._base_line, _ = resume
            stream.seek(offset)
            self.bytes_read = offset
            self._decoder = codecs.getincrementaldecoder("utf-8")("strict")

    def _line_at(self, position: int) -> int:
        return self._base_line + self._buffer.count("\n", 0, position)

    def _fail(self, reason: str, position: int, element: int | None = None) -> ImportFailed:
        where = f"line {self._line_at(position)}"
        if element is not None:
            where += f", element {element}"
        return ImportFailed(self.file_name, f"{where}: {reason}")

    def _read_more(self) -> bool:
        """Append the next block to the window; False at the end of the file."""
        if self._eof:
            return False
        block = self.stream.read(READ_BLOCK)
        if self.bytes_read == 0 and self._resume is None:
            block = self._check_start(block)
        try:
            text = self._decoder.decode(block, final=not block)
        except UnicodeDecodeError as error:
            offset = self.bytes_read + error.start
            line = self._line_at(len(self._buffer)) + block.count(b"\n", 0, error.start)
            raise ImportFailed(
                self.file_name,
                f"line {line} (byte {offset}): byte 0x{block[error.start]:02X} is not UTF-8; "
                "save the file as UTF-8",
            ) from None
        self.bytes_read += len(block)
        if not block:
            self._eof = True
        # Drop what has been consumed so the window stays about one block long.
        if self._position:
            self._base_line += self._buffer.count("\n", 0, self._position)
            self._buffer = self._buffer[self._position :]
            self._position = 0
        self._buffer += text
        return bool(block) or bool(text)

    def _check_start(self, block: bytes) -> bytes:
        if block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise ImportFailed(self.file_name, "the file is UTF-16; save it as UTF-8")
        return block

    def _skip_whitespace(self) -> str:
        """The next significant character, reading more as needed; '' at the end."""
        while True:
            match = _WHITESPACE.match(self._buffer, self._position)
            assert match is not None
            self._position = match.end()
            if self._position < len(self._buffer):
                return self._buffer[self._position]
            if not self._read_more():
                return ""

    def __iter__(self) -> Iterator[Any]:
        if self._resume is not None:
            element = self._resume[2]
        else:
            first = self._skip_whitespace()
            if first == "":
                raise ImportFailed(self.file_name, "the file is empty")
            if first != "[":
                found = "an object" if first == "{" else f"{first!r}"
                raise self._fail(f"expected a JSON list ('['), found {found}", self._position)
            self._position += 1
            element = 0
            if self._skip_whitespace() == "]":
                self._position += 1
                self._expect_end()
                return
        while True:
            element += 1
            yield self._decode_element(element)
            separator = self._skip_whitespace()
            if separator == ",":
                self._position += 1
                continue
            if separator == "]":
                self._position += 1
                self._expect_end()
                return
            if separator == "":
                raise self._fail("the file ends inside the list (truncated?)", self._position)
            raise self._fail(
                f"expected ',' or ']' after element {element}, found {separator!r}",
                self._position,
                element,
            )

    def _decode_element(self, element: int) -> Any:
        if self._skip_whitespace() == "":
            raise self._fail("the file ends inside the list (truncated?)", self._position)
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buffer, self._position)
            except json.JSONDecodeError as error:
                # Reading more may drop what lies before the element from the window.
                into_element = error.pos - self._position
                if self._need_more(element):
                    continue
                raise self._fail(
                    f"malformed JSON: {error.msg}", self._position + into_element, element
                ) from None
            except RecursionError:
                raise self._fail(
                    "the JSON is nested too deeply to be an export", self._position, element
                ) from None
            if self._may_continue(value, end) and self._need_more(element):
                # A number at the very end of the window may continue in the next block.
                continue
            if _SURROGATE_ESCAPE.search(self._buffer, self._position, end):
                self._check_text(value, element)
            self._position = end
            return value

    def _check_text(self, value: Any, element: int) -> None:
        """Refuse a string holding a lone surrogate: it is not text and cannot be stored."""
        field = _lone_surrogate(value, "")
        if field is not None:
            raise self._fail(
                f"field {field or '(element)'} holds a lone surrogate escape (\\uD800-\\uDFFF), "
                "which is not text; fix the export",
                self._position,
                element,
            )

    def _may_continue(self, value: Any, end: int) -> bool:
        if self._eof:
            return False
        if end == len(self._buffer):
            return True
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return is_number and _NUMBER_TAIL.fullmatch(self._buffer, end) is not None

    def _need_more(self, element: int) -> bool:
        if len(self._buffer) - self._position > MAX_ELEMENT_CHARS:
            raise self._fail(
                f"element {element} is larger than {MAX_ELEMENT_CHARS >> 20} MB; "
                "this does not look like an export",
                self._position,
                element,
            )
        return self._read_more()

    def _expect_end(self) -> None:
        trailing = self._skip_whitespace()
        if trailing:
            raise self._fail(f"unexpected {trailing!r} after the end of the list", self._position)


def _lone_surrogate(value: Any, path: str) -> str | None:
    """The path of the first string (or key) in ``value`` that is not valid Unicode."""
    stack = [(value, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, str):
            if not _encodes(current):
                return where
        elif isinstance(current, dict):
            for key, item in current.items():
                if not _encodes(key):
                    return where or "(key)"
                stack.append((item, f"{where}.{key}" if where else key))
        elif isinstance(current, list):
            stack.extend((item, f"{where}[{index}]") for index, item in enumerate(current))
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
