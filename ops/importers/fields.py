"""Column checks shared by the importers: text in, typed Arrow arrays out, bad rows named.

Each check works on a whole column at once and records, for every bad row, the
field, the value and the reason in a ``Problems`` list; the row is then left out
(or, by default, the import stops at the first problem).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ops.identities import EMAIL_PATTERN, IDENTITY_KEY_PATTERN
from ops.importers.problems import Reject, quote

TIMESTAMP = pa.timestamp("us", tz="UTC")
# Longer than a working day on one annotation is a timer left running, not work.
MAX_ACTIVE_SECONDS = 24 * 3600.0
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# Clocks differ; a submission a day ahead of ours is still believable, later is not.
FUTURE_SLACK = dt.timedelta(days=1)
MAX_KEY_LENGTH = 200

ISO_WITH_ZONE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$"
NUMBER = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0", "")


@dataclass
class Problems:
    """Bad cells found in one chunk: position in the chunk, field, value, reason."""

    rows: pa.Array
    found: dict[int, Reject] = field(default_factory=dict)

    def add(self, index: int, name: str, value: object, reason: str) -> None:
        # The first problem of a row is the one reported for it.
        if index not in self.found:
            self.found[index] = Reject(
                row=int(self.rows[index].as_py()), field=name, value=quote(value), reason=reason
            )

    def add_mask(self, mask: pa.Array, values: pa.Array, name: str, reason: str) -> None:
        for index in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
            self.add(index, name, values[index].as_py(), reason)

    def bad_mask(self, length: int) -> pa.Array:
        """True for every row with a problem."""
        flags = [False] * length
        for index in self.found:
            flags[index] = True
        return pa.array(flags, pa.bool_())


def as_array(values: Any, kind: pa.DataType | None = None) -> pa.Array:
    """An Arrow array from a list or an array (chunked arrays are combined)."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    return pa.array(values, kind) if kind is not None else pa.array(values)


def _blank_to_null(values: pa.Array) -> pa.Array:
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def texts(
    values: Any,
    name: str,
    problems: Problems,
    *,
    required: bool = False,
    max_length: int | None = None,
    choices: tuple[str, ...] | None = None,
) -> pa.Array:
    """Text cells, blank meaning missing; required, length and allowed values checked."""
    array = as_array(values)
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        if pa.types.is_null(array.type):
            array = pa.nulls(len(array), pa.string())
        else:
            array = pc.cast(array, pa.string())
    array = _blank_to_null(pc.cast(array, pa.string()))
    if required:
        problems.add_mask(pc.is_null(array), array, name, f"{name} is required")
    # PostgreSQL text cannot hold NUL; such a byte is damage, not data.
    problems.add_mask(pc.match_substring(array, "\x00"), array, name, "contains a NUL character")
    if max_length is not None:
        too_long = pc.greater(pc.utf8_length(array), max_length)
        problems.add_mask(too_long, array, name, f"longer than {max_length} characters")
    if choices is not None:
        allowed = pa.array(choices, pa.string())
        outside = pc.and_(pc.is_valid(array), pc.invert(pc.is_in(array, value_set=allowed)))
        problems.add_mask(outside, array, name, f"must be one of {', '.join(choices)}")
    return array


def timestamps(
    values: Any,
    name: str,
    problems: Problems,
    *,
    required: bool = False,
    now: dt.datetime | None = None,
) -> pa.Array:
    """ISO 8601 timestamps with a zone (or Arrow timestamps with one), as UTC."""
    array = as_array(values)
    shown = array
    if pa.types.is_timestamp(array.type):
        if array.type.tz is None:
            problems.add_mask(
                pc.is_valid(array), array, name, "timestamp has no time zone; store it as UTC"
            )
            return pa.nulls(len(array), TIMESTAMP)
        parsed = pc.cast(array, TIMESTAMP)
    else:
        text = _blank_to_null(pc.cast(array, pa.string()))
        shown = text
        if required:
            problems.add_mask(pc.is_null(text), text, name, f"{name} is required")
        shaped = pc.match_substring_regex(text, ISO_WITH_ZONE)
        problems.add_mask(
            pc.invert(shaped),
            text,
            name,
            "not an ISO 8601 timestamp with a zone, e.g. 2026-03-02T10:00:00Z",
        )
        candidate = pc.if_else(shaped, text, pa.scalar(None, pa.string()))
        parsed = _cast_each_on_failure(candidate, name, problems)
    if required and pa.types.is_timestamp(array.type):
        problems.add_mask(pc.is_null(parsed), array, name, f"{name} is required")
    latest = (now or dt.datetime.now(dt.UTC)) + FUTURE_SLACK
    out_of_range = pc.or_(
        pc.less(parsed, pa.scalar(EARLIEST, TIMESTAMP)),
        pc.greater(parsed, pa.scalar(latest, TIMESTAMP)),
    )
    problems.add_mask(
        out_of_range,
        shown,
        name,
        f"outside {EARLIEST:%Y-%m-%d} to {latest:%Y-%m-%d}; check the clock or the year",
    )
    return parsed


def _cast_each_on_failure(text: pa.Array, name: str, problems: Problems) -> pa.Array:
    try:
        return pc.cast(text, TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Only on the error path: find the cells Arrow refuses (e.g. 2026-02-30).
    parsed: list[Any] = []
    for index, value in enumerate(text.to_pylist()):
        if value is None:
            parsed.append(None)
            continue
        try:
            parsed.append(pc.cast(pa.array([value]), TIMESTAMP)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            problems.add(index, name, value, "not a valid date and time")
            parsed.append(None)
    return pa.array(parsed, TIMESTAMP)


def seconds(
    values: Any,
    name: str,
    problems: Problems,
    *,
    default: float | None = None,
    maximum: float = MAX_ACTIVE_SECONDS,
) -> pa.Array:
    """Durations in seconds: numbers from 0 to ``maximum``; blank is ``default``."""
    array = as_array(values)
    shown = array
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
        numbers = pc.cast(array, pa.float64())
    elif pa.types.is_null(array.type):
        numbers = pa.nulls(len(array), pa.float64())
    else:
        text = _blank_to_null(pc.cast(array, pa.string()))
        numeric = pc.match_substring_regex(text, NUMBER)
        shown = text
        problems.add_mask(pc.invert(numeric), text, name, "not a number of seconds")
        numbers = pc.cast(
            pc.utf8_trim_whitespace(pc.if_else(numeric, text, pa.scalar(None, pa.string()))),
            pa.float64(),
        )
    not_finite = pc.invert(pc.is_finite(numbers))
    problems.add_mask(not_finite, shown, name, "not a finite number")
    problems.add_mask(pc.less(numbers, 0), shown, name, "negative duration")
    problems.add_mask(
        pc.greater(numbers, maximum),
        shown,
        name,
        f"more than {maximum / 3600:g} hours on one annotation",
    )
    if default is not None:
        numbers = pc.fill_null(numbers, default)
    return numbers


def booleans(values: Any, name: str, problems: Problems) -> pa.Array:
    """true/false, yes/no, 1/0 (any case); blank is false."""
    array = as_array(values)
    if pa.types.is_boolean(array.type):
        return pc.fill_null(array, False)
    if pa.types.is_null(array.type):
        return pa.array([False] * len(array), pa.bool_())
    if pa.types.is_integer(array.type):
        problems.add_mask(
            pc.invert(pc.is_in(array, value_set=pa.array([0, 1], array.type))),
            array,
            name,
            "must be true or false",
        )
        return pc.fill_null(pc.equal(array, 1), False)
    text = pc.fill_null(pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(array, pa.string()))), "")
    truthy = pc.is_in(text, value_set=pa.array(TRUE_WORDS))
    falsy = pc.is_in(text, value_set=pa.array(FALSE_WORDS))
    problems.add_mask(
        pc.invert(pc.or_(truthy, falsy)), text, name, "must be true or false (or 1/0, yes/no)"
    )
    return truthy


def canonical_json(value: object) -> str:
    """A stable JSON text for a structured label: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def person_key(value: str) -> str | None:
    """``platform:id`` or an e-mail as an identity key (e-mail lower-cased); None if neither."""
    text = value.strip()
    if EMAIL_PATTERN.match(text):
        return "email:" + text.lower()
    if IDENTITY_KEY_PATTERN.match(text):
        return text
    return None


def split_key(key: str) -> tuple[str, str]:
    """(platform, external id) of an identity key."""
    platform, _, external_id = key.partition(":")
    return platform, external_id
