"""Label Studio exports (JSON, JSON_MIN, CSV) read into raw annotation records.

Field shapes follow docs/labelstudio.md and the real exports in
tests/fixtures/labelstudio. Each annotation becomes one record keyed
``ls:<annotation id>``; its item is the task id. A ``ground_truth`` annotation
makes its task golden and is kept as the gold reference, not as work.

JSON_MIN and CSV carry no ground-truth flag and leave skipped annotations out, so
they are read only when the importer is told who set the gold
(``reference_annotators``) or that no one did (``no_gold``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ops.importers.chunks import (
    ColumnBuilder,
    GoldReference,
    Person,
    RawChunk,
    paused_collector,
)
from ops.importers.csvfile import CsvReader
from ops.importers.fields import canonical_json
from ops.importers.jsonstream import JsonArrayReader
from ops.importers.problems import ImportFailed, Reject
from ops.importers.taskstream import Annotation, Region, Task, TaskArrayReader, as_annotation

PLATFORM = "labelstudio"
EXTERNAL_PREFIX = "ls:"
CHUNK_RECORDS = 20_000
FORMATS = ("json", "json_min", "csv")

# JSON_MIN and CSV keys that describe the annotation rather than the task data or a control.
MIN_META = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time")
# Enterprise review actions recorded on the annotation itself.
LAST_ACTION_OUTCOMES = {
    "accepted": "accepted",
    "rejected": "rejected",
    "fixed_and_accepted": "corrected",
}


FLAT_FORMAT_NAMES = {"json_min": "JSON_MIN", "csv": "CSV"}
# What a flat export leaves out, as the import summary says it.
FLAT_FORMAT_LACKS = ("skipped annotations (a flat export leaves them out)",)


@dataclass(frozen=True)
class ReferenceAnnotators:
    """The people whose annotations are gold references, as the user named them.

    ``keys`` maps identity keys (``labelstudio:7``, ``email:a@b``) and ``emails`` maps
    lower-cased e-mails to the name the user gave, so a message can quote it back.
    """

    keys: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.keys or self.emails)

    def named(self) -> set[str]:
        return {*self.keys.values(), *self.emails.values()}

    def match(self, key: str, person: Person | None) -> str | None:
        """The name given for this identity when it is a reference annotator, else None."""
        named = self.keys.get(key)
        if named is None and person is not None and person.email:
            named = self.emails.get(person.email.strip().lower())
        return named


def flat_export_refused(file_name: str, file_format: str) -> ImportFailed:
    """The one-line refusal of a JSON_MIN or CSV export nobody said how to read."""
    name = FLAT_FORMAT_NAMES[file_format]
    return ImportFailed(
        file_name,
        f"a {name} export has no ground_truth and no was_cancelled field, so gold reference "
        "annotations would count as work and skipped annotations are missing; export JSON "
        "from Label Studio instead, or name who set the gold with --reference-annotator EMAIL, "
        "or pass --no-gold if no one did",
    )


def external_id(annotation_id: object) -> str:
    """The natural key of a Label Studio annotation within a project."""
    return f"{EXTERNAL_PREFIX}{annotation_id}"


def load_users(path: Path) -> dict[str, Person]:
    """Identity key -> email and name from Label Studio's ``/api/users`` list."""
    file_name = path.name
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportFailed(file_name, "the users file is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise ImportFailed(
            file_name, f"line {error.lineno}: the users file is not valid JSON: {error.msg}"
        ) from None
    except RecursionError:
        raise ImportFailed(file_name, "the users file is nested too deeply") from None
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]
    if not isinstance(data, list):
        raise ImportFailed(file_name, "expected a list of users as /api/users returns it")
    people: dict[str, Person] = {}
    for index, user in enumerate(data, start=1):
        if not isinstance(user, dict) or not isinstance(user.get("id"), int):
            raise ImportFailed(file_name, "each user needs an integer id", row=index, field="id")
        name = " ".join(
            part.strip()
            for part in (str(user.get("first_name") or ""), str(user.get("last_name") or ""))
            if part.strip()
        )
        email = user.get("email") if isinstance(user.get("email"), str) else None
        for field_name, text in (("first_name", name), ("email", email or "")):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ImportFailed(
                    file_name,
                    "holds a lone surrogate escape, which is not text",
                    row=index,
                    field=field_name,
                ) from None
        people[f"{PLATFORM}:{user['id']}"] = Person(email=email or None, name=name or None)
    return people


def detect_format(path: Path) -> str:
    """json (tasks), json_min (flat rows) or csv, from the first bytes and first element."""
    with path.open("rb") as stream:
        head = stream.read(1 << 16).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"["):
        return "csv"
    with path.open("rb") as stream:
        for element in JsonArrayReader(stream, path.name):
            if isinstance(element, dict) and "annotations" in element:
                return "json"
            return "json_min"
    return "json"


def person_from(value: object, users: dict[str, Person]) -> tuple[str | None, Person | None]:
    """Identity key and what is known of the person for a ``completed_by``-like value."""
    if isinstance(value, bool):
        return None, None
    if isinstance(value, int):
        # Label Studio user ids start at 1; anything else is not a user.
        if value < 1:
            return None, None
        key = f"{PLATFORM}:{value}"
        return key, users.get(key)
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():
            if int(text) < 1:
                return None, None
            key = f"{PLATFORM}:{int(text)}"
            return key, users.get(key)
        if "@" in text:
            return "email:" + text.lower(), Person(email=text)
        return None, None
    if isinstance(value, dict):
        email = value.get("email") if isinstance(value.get("email"), str) else None
        name = " ".join(
            str(value.get(part) or "").strip()
            for part in ("first_name", "last_name")
            if str(value.get(part) or "").strip()
        )
        user_id = value.get("id")
        if isinstance(user_id, int) and not isinstance(user_id, bool) and user_id >= 1:
            key = f"{PLATFORM}:{user_id}"
            known = users.get(key)
            return key, Person(
                email=email or (known.email if known else None),
                name=name or (known.name if known else None),
            )
        if email:
            return "email:" + email.lower(), Person(email=email, name=name or None)
    return None, None


def _check_choices(value: object) -> None:
    """A choices control's value must hold a list of choice texts."""
    if isinstance(value, dict) and "choices" in value:
        choices = value["choices"]
        if not isinstance(choices, list) or not all(isinstance(text, str) for text in choices):
            raise ValueError(
                f"value.choices must be a list of choice texts, not {canonical_json(choices)}"
            )


def _value_label(value: object) -> str | None:
    """One control's value as a label: the choice text for one choice, else canonical JSON."""
    _check_choices(value)
    if isinstance(value, dict):
        choices = value.get("choices")
        if isinstance(choices, list) and len(choices) == 1 and isinstance(choices[0], str):
            return choices[0]
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return value
    return canonical_json(value)


def label_from_result(result: object, label_field: str | None) -> str | None:
    """The label of a full-JSON annotation ``result`` list.

    With ``label_field``, that control's value. Otherwise the choice text when the
    result holds exactly one choices control with one choice (comments and ratings
    beside it do not change the label), else canonical JSON of all result values.
    """
    if type(result) is list and len(result) == 1 and label_field is None:
        # The common case, one single-choice control, without building anything.
        item = result[0]
        if type(item) is Region:
            kind, value = item.type, item.value
        elif type(item) is dict:
            kind, value = item.get("type"), item.get("value")
        else:
            kind = value = None
        if kind == "choices":
            picked = value.get("choices") if type(value) is dict else None
            if type(picked) is list and len(picked) == 1 and type(picked[0]) is str:
                return picked[0]
    if not isinstance(result, list):
        raise ValueError("result is not a list")
    result = [item.as_dict() if type(item) is Region else item for item in result]
    for position, item in enumerate(result):
        if not isinstance(item, dict):
            raise ValueError(f"result[{position}] is not an object")
        if item.get("type") == "choices" and not isinstance(item.get("value"), dict):
            raise ValueError(f"result[{position}].value of a choices control is not an object")
        _check_choices(item.get("value"))
    items: list[dict[str, Any]] = result
    if label_field is not None:
        values = [item.get("value") for item in items if item.get("from_name") == label_field]
        if not values:
            return None
        return _value_label(values[0]) if len(values) == 1 else canonical_json(values)
    choices = [item for item in items if item.get("type") == "choices"]
    if len(choices) == 1:
        value = choices[0].get("value")
        picked = value.get("choices") if isinstance(value, dict) else None
        if isinstance(picked, list) and len(picked) == 1 and isinstance(picked[0], str):
            return picked[0]
    if not items:
        return None
    values = [{"from_name": item.get("from_name"), "value": item.get("value")} for item in items]
    return canonical_json(sorted(values, key=canonical_json))


def _review(annotation: Annotation, users: dict[str, Person]) -> tuple[Any, ...]:
    """(reviewer key, reviewer person, outcome, reviewed at) from reviews[] or last_action."""
    reviews = annotation.reviews
    if isinstance(reviews, list):
        done = [review for review in reviews if isinstance(review, dict)]
        if done:
            latest = max(done, key=lambda review: str(review.get("created_at") or ""))
            key, person = person_from(latest.get("created_by"), users)
            verdict = "rejected"
            if latest.get("accepted") is True:
                verdict = "corrected" if latest.get("fixed_annotation_history") else "accepted"
            return key, person, verdict, latest.get("created_at")
    outcome = LAST_ACTION_OUTCOMES.get(str(annotation.last_action or ""))
    if outcome is not None:
        return None, None, outcome, annotation.updated_at
    return None, None, None, None


class LabelStudioReader:
    """Reads one Label Studio export file into RawChunks; ``bytes_read`` tells progress."""

    def __init__(
        self,
        stream: BinaryIO,
        file_name: str,
        *,
        users: dict[str, Person] | None = None,
        label_field: str | None = None,
        references: ReferenceAnnotators | None = None,
        no_gold: bool = False,
    ) -> None:
        self.stream = stream
        self.file_name = file_name
        self.users = users or {}
        self.label_field = label_field
        self.references = references or ReferenceAnnotators()
        self.no_gold = no_gold
        self.format: str | None = None
        self._source: JsonArrayReader | TaskArrayReader | CsvReader | None = None
        self._builder = ColumnBuilder()
        self._matched: set[str] = set()
        self._people: dict[int, tuple[str | None, Person | None]] = {}
        # Item -> updated_at of the reference handed out for it, so the newest one wins.
        self._gold_updated: dict[str, str] = {}

    @property
    def bytes_read(self) -> int:
        return self._source.bytes_read if self._source is not None else 0

    def chunks(self) -> Iterator[RawChunk]:
        return paused_collector(self._chunks())

    def _chunks(self) -> Iterator[RawChunk]:
        head = self.stream.peek(1 << 12) if hasattr(self.stream, "peek") else b""
        if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
            reader: JsonArrayReader | TaskArrayReader = (
                TaskArrayReader(self.stream, self.file_name)
                if self.stream.seekable()
                else JsonArrayReader(self.stream, self.file_name)
            )
            self._source = reader
            yield from self._json_chunks(reader)
        else:
            self.format = "csv"
            csv_reader = CsvReader(self.stream, self.file_name)
            self._source = csv_reader
            yield from self._csv_chunks(csv_reader)

    # --- JSON and JSON_MIN -----------------------------------------------------------

    def _json_chunks(self, reader: JsonArrayReader | TaskArrayReader) -> Iterator[RawChunk]:
        builder = self._builder
        # Without reference annotators or a named label control, most tasks are plain work.
        plain = not self.references and self.label_field is None
        for row, element in enumerate(reader, start=1):
            if type(element) is Task:
                # Read on the fast path: a task with a list of annotation records.
                if self.format is None:
                    self.format = "json"
                if not (plain and self._add_plain_task(row, element)):
                    self._add_task(row, element.id, element.annotations)
                if len(builder) >= CHUNK_RECORDS:
                    yield builder.take()
                continue
            if not isinstance(element, dict):
                raise ImportFailed(
                    self.file_name,
                    "expected an object (a task or a JSON_MIN row), "
                    f"found {type(element).__name__}",
                    row=row,
                )
            if self.format is None:
                self.format = "json" if "annotations" in element else "json_min"
                self._check_flat()
            if self.format == "json":
                self._add_task(row, element.get("id"), element.get("annotations"))
            else:
                self._add_min_row(row, element)
            if len(builder) >= CHUNK_RECORDS:
                yield builder.take()
        if self.format is None:
            raise ImportFailed(self.file_name, "the export holds no tasks")
        self._check_references_matched()
        if len(builder) or builder.rejects or builder.gold or builder.counts:
            yield builder.take()

    def _check_flat(self) -> None:
        """Refuse a flat export unless told who set the gold, or that no one did."""
        if self.format in FLAT_FORMAT_NAMES and not self.references and not self.no_gold:
            raise flat_export_refused(self.file_name, self.format)

    def _check_references_matched(self) -> None:
        unmatched = sorted(self.references.named() - self._matched)
        if unmatched:
            raise ImportFailed(
                self.file_name,
                f"no annotation by {', '.join(unmatched)} in the file; check the e-mail, and "
                "pass the user list with --users so Label Studio user ids match e-mails",
                field="reference_annotator",
            )

    def _reference(self, key: str, person: Person | None) -> bool:
        """Whether this identity was named a reference annotator (and note the match)."""
        named = self.references.match(key, person)
        if named is None:
            return False
        self._matched.add(named)
        return True

    def _add_gold(
        self, item_id: str, label: str | None, annotation_id: int, key: str, updated_at: object
    ) -> None:
        """A reference annotation of ``item_id``; the newest of several wins."""
        builder = self._builder
        builder.count("gold_references")
        builder.count("reference_rows")
        updated = str(updated_at or "")
        if item_id in self._gold_updated and updated < self._gold_updated[item_id]:
            return
        self._gold_updated[item_id] = updated
        builder.gold.append(
            GoldReference(
                item_id=item_id,
                gold_label=label,
                external_id=external_id(annotation_id),
                set_by=key,
                source_updated_at=updated_at if isinstance(updated_at, str) else None,
            )
        )

    def _reject(self, row: int, field: str, value: object, reason: str) -> None:
        if isinstance(value, list):
            value = [item.as_dict() if type(item) is Region else item for item in value]
        shown = canonical_json(value) if isinstance(value, dict | list) else str(value)
        self._builder.rejects.append(Reject(row=row, field=field, value=shown[:80], reason=reason))

    def _person(self, value: object) -> tuple[str | None, Person | None]:
        """``person_from`` with the answer for plain user ids kept, as most values are."""
        if type(value) is int:
            known = self._people.get(value)
            if known is None:
                known = self._people[value] = person_from(value, self.users)
            return known
        return person_from(value, self.users)

    def _add_plain_task(self, row: int, task: Task) -> bool:
        """Add a task whose annotations are all plain work and return True: integer ids and
        user ids, no gold, no review, one choice picked. Otherwise add nothing and return
        False, for ``_add_task`` to read it field by field and name what is wrong."""
        task_id = task.id
        if type(task_id) is not int:
            return False
        item_id = str(task_id)
        people = self._people
        known = self._builder.people
        records = []
        skips = 0
        for annotation in task.annotations:
            annotation_id = annotation.id
            completed_by = annotation.completed_by
            cancelled = annotation.was_cancelled
            ground_truth = annotation.ground_truth
            result = annotation.result
            if (
                type(annotation_id) is not int
                or type(completed_by) is not int
                or (cancelled is not False and cancelled is not True and cancelled is not None)
                or (ground_truth is not False and ground_truth is not None)
                or annotation.reviews is not None
                or annotation.last_action is not None
                or type(result) is not list
                or len(result) != 1
                or type(region := result[0]) is not Region
                or region.type != "choices"
                or type(value := region.value) is not dict
                or type(picked := value.get("choices")) is not list
                or len(picked) != 1
                or type(label := picked[0]) is not str
            ):
                return False
            identity = people.get(completed_by)
            if identity is None:
                identity = people[completed_by] = person_from(completed_by, self.users)
            key, person = identity
            if key is None:
                return False
            if person is not None and key not in known:
                known[key] = person
            skipped = cancelled is True
            skips += skipped
            records.append(
                (
                    None,  # project
                    item_id,
                    key,
                    None if skipped else label,
                    annotation.created_at,
                    annotation.lead_time,
                    skipped,
                    False,  # escalated
                    False,  # is_gold
                    None,  # gold_label
                    None,  # reviewer
                    None,  # review_outcome
                    None,  # review_seconds
                    None,  # reviewed_at
                    None,  # guideline_version
                    f"{EXTERNAL_PREFIX}{annotation_id}",
                    annotation.updated_at,
                )
            )
        builder = self._builder
        builder.add_records(row, records)
        counts = builder.counts
        counts["tasks"] = counts.get("tasks", 0) + 1
        counts["annotations"] = counts.get("annotations", 0) + len(records)
        if skips:
            counts["skipped"] = counts.get("skipped", 0) + skips
        return True

    def _add_task(self, row: int, task_id: object, annotations: object) -> None:
        builder = self._builder
        counts = builder.counts
        counts["tasks"] = counts.get("tasks", 0) + 1
        if type(task_id) is not int:
            self._reject(row, "id", task_id, "task id must be an integer")
            return
        if not isinstance(annotations, list):
            self._reject(row, "annotations", annotations, "annotations must be a list")
            return
        item_id = str(task_id)
        usable: list[tuple[Annotation, str, str | None, bool]] = []
        gold: tuple[Annotation, str, str | None] | None = None
        references = bool(self.references)
        for position, given in enumerate(annotations):
            if type(given) is Annotation:
                annotation = given
            elif isinstance(given, dict):
                annotation = as_annotation(given)
            else:
                self._reject(row, f"annotations[{position}]", given, "annotation must be an object")
                continue
            annotation_id = annotation.id
            if type(annotation_id) is not int:
                self._reject(
                    row,
                    f"annotations[{position}].id",
                    annotation_id,
                    "annotation id must be an integer",
                )
                continue
            counts["annotations"] = counts.get("annotations", 0) + 1
            key, person = self._person(annotation.completed_by)
            if key is None:
                self._reject(
                    row,
                    f"annotation {annotation_id}: completed_by",
                    annotation.completed_by,
                    "no user id (1 or more) or e-mail for who completed the annotation",
                )
                continue
            cancelled = annotation.was_cancelled
            ground_truth = annotation.ground_truth
            if cancelled is not None and type(cancelled) is not bool:
                self._reject(
                    row,
                    f"annotation {annotation_id}: was_cancelled",
                    cancelled,
                    "must be true or false",
                )
                continue
            if ground_truth is not None and type(ground_truth) is not bool:
                self._reject(
                    row,
                    f"annotation {annotation_id}: ground_truth",
                    ground_truth,
                    "must be true or false",
                )
                continue
            result = annotation.result
            label = None
            if (
                type(result) is list
                and len(result) == 1
                and type(region := result[0]) is Region
                and region.type == "choices"
                and type(value := region.value) is dict
                and type(picked := value.get("choices")) is list
                and len(picked) == 1
                and type(label := picked[0]) is str
                and self.label_field is None
            ):
                pass  # the common case, one single-choice control, found without a call
            else:
                try:
                    label = label_from_result(result, self.label_field)
                except ValueError as error:
                    self._reject(row, f"annotation {annotation_id}: result", result, str(error))
                    continue
            if person is not None and key not in builder.people:
                builder.people[key] = person
            skipped = cancelled is True
            if (ground_truth is True or (references and self._reference(key, person))) and (
                not skipped
            ):
                if gold is None or str(annotation.updated_at or "") > str(gold[0].updated_at or ""):
                    gold = (annotation, key, label)
                builder.count("gold_references")
                builder.count("reference_rows")
                continue
            usable.append((annotation, key, label, skipped))
        if gold is not None:
            builder.gold.append(
                GoldReference(
                    item_id=item_id,
                    gold_label=gold[2],
                    external_id=external_id(gold[0].id),
                    set_by=gold[1],
                    source_updated_at=gold[0].updated_at
                    if isinstance(gold[0].updated_at, str)
                    else None,
                )
            )
        is_gold = gold is not None
        gold_label = gold[2] if gold is not None else None
        skips = 0
        for annotation, key, label, skipped in usable:
            if annotation.reviews is None and annotation.last_action is None:
                reviewer = outcome = reviewed_at = None
            else:
                reviewer, reviewer_person, outcome, reviewed_at = _review(annotation, self.users)
                if reviewer is not None and reviewer_person is not None:
                    builder.people.setdefault(reviewer, reviewer_person)
            skips += skipped
            builder.add_record(
                row,
                (
                    None,  # project
                    item_id,
                    key,
                    None if skipped else label,
                    annotation.created_at,
                    annotation.lead_time,
                    skipped,
                    False,  # escalated
                    is_gold,
                    gold_label,
                    reviewer,
                    outcome,
                    None,  # review_seconds
                    reviewed_at,
                    None,  # guideline_version
                    f"{EXTERNAL_PREFIX}{annotation.id}",
                    annotation.updated_at,
                ),
            )
        if skips:
            builder.count("skipped", skips)

    def _min_label(self, row: int, record: dict[str, Any], controls: list[str]) -> str | None:
        if self.label_field is not None:
            return _value_label(record.get(self.label_field))
        if len(controls) > 1:
            raise ImportFailed(
                self.file_name,
                f"several controls could hold the label ({', '.join(sorted(controls))}); "
                "name the one to use with --label-field",
                row=row,
            )
        return _value_label(record[controls[0]]) if controls else None

    def _add_min_row(self, row: int, record: dict[str, Any]) -> None:
        builder = self._builder
        builder.count("annotations")
        annotation_id = record.get("annotation_id")
        task_id = record.get("id")
        if not isinstance(annotation_id, int) or isinstance(annotation_id, bool):
            self._reject(row, "annotation_id", annotation_id, "annotation id must be an integer")
            return
        if not isinstance(task_id, int) or isinstance(task_id, bool):
            self._reject(row, "id", task_id, "task id must be an integer")
            return
        # JSON_MIN keeps key order: task data, then "id", then one key per control,
        # then "annotator" and the annotation's own fields.
        keys = list(record)
        start = keys.index("id") + 1
        end = keys.index("annotator") if "annotator" in keys else len(keys)
        controls = [key for key in keys[start:end] if key not in MIN_META]
        self._add_flat(row, record, annotation_id, task_id, self._min_label(row, record, controls))

    def _add_flat(
        self, row: int, record: dict[str, Any], annotation_id: int, task_id: int, label: str | None
    ) -> None:
        builder = self._builder
        key, person = person_from(record.get("annotator"), self.users)
        if key is None:
            self._reject(
                row,
                "annotator",
                record.get("annotator"),
                "no user id (1 or more) or e-mail for the annotator",
            )
            return
        if self._reference(key, person):
            self._add_gold(str(task_id), label, annotation_id, key, record.get("updated_at"))
            return
        if person is not None:
            builder.people.setdefault(key, person)
        builder.add(
            row,
            {
                "item_id": str(task_id),
                "annotator": key,
                "label": label,
                "submitted_at": record.get("created_at"),
                "active_seconds": record.get("lead_time"),
                "skipped": False,
                "escalated": False,
                "is_gold": False,
                "external_id": external_id(annotation_id),
                "source_updated_at": record.get("updated_at"),
            },
        )

    # --- CSV -------------------------------------------------------------------------

    def _csv_chunks(self, reader: CsvReader) -> Iterator[RawChunk]:
        builder = self._builder
        header = reader.header
        missing = [name for name in MIN_META if name not in header]
        if missing:
            raise ImportFailed(
                self.file_name,
                f"missing column(s) {', '.join(missing)}; is this a Label Studio CSV export?",
                row=1,
            )
        self._check_flat()
        candidates = [name for name in header if name not in MIN_META]
        if self.label_field is not None and self.label_field not in header:
            raise ImportFailed(
                self.file_name,
                f"no column {self.label_field!r} for --label-field; columns are "
                f"{', '.join(candidates)}",
                row=1,
            )
        if self.label_field is None and len(candidates) > 1:
            raise ImportFailed(
                self.file_name,
                "a CSV export mixes task data and controls in its columns "
                f"({', '.join(candidates)}); name the label's column with --label-field",
                row=1,
            )
        label_column = self.label_field or (candidates[0] if candidates else None)
        position = {name: index for index, name in enumerate(header)}
        for row, values in reader:
            if isinstance(values, Reject):
                builder.rejects.append(values)
                continue
            builder.count("annotations")
            record: dict[str, Any] = {name: values[position[name]] for name in MIN_META}
            annotation_id = _integer(record["annotation_id"])
            task_id = _integer(record["id"])
            if annotation_id is None:
                self._reject(
                    row,
                    "annotation_id",
                    record["annotation_id"],
                    "annotation id must be an integer",
                )
            elif task_id is None:
                self._reject(row, "id", record["id"], "task id must be an integer")
            else:
                cell = values[position[label_column]] if label_column is not None else ""
                self._add_flat(row, record, annotation_id, task_id, _cell_label(cell))
            if len(builder) >= CHUNK_RECORDS:
                yield builder.take()
        self._check_references_matched()
        yield builder.take()


def _integer(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def _cell_label(cell: str) -> str | None:
    """A CSV cell as a label: JSON cells (multi-choice, ratings) made canonical."""
    text = cell.strip()
    if not text:
        return None
    if text[0] in "[{":
        try:
            return _value_label(json.loads(text))
        except json.JSONDecodeError:
            return text
    return text
