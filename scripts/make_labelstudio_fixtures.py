#!/usr/bin/env python3
"""Produce real Label Studio export fixtures for the annops importer tests.

Talks to a running (fresh, throwaway) Label Studio server through its REST API
and its sign-up form, using only the standard library. It:

1. signs up 4 annotators through the organization's invite link (the same
   path a person uses in the browser), logs each one in and reads their own
   API token, so every annotation is submitted by its real author;
2. creates the project "Defect inspection" (single-choice ``defect`` control
   plus an optional ``comment`` TextArea and ``confidence`` Rating);
3. imports 30 text tasks (inspection notes INSP-0001 .. INSP-0030);
4. submits annotations as the annotators (2-3 per task on most tasks, a few
   skips, a few draft-based submissions, one pending draft), creates gold
   annotations as the admin and stars 3 annotations as ground truth;
5. exports JSON, JSON_MIN and CSV plus the user list;
6. adds 5 more annotations and one label change, then exports JSON again
   (``export_later.json``) so re-import overlap can be tested;
7. writes ``expected.json`` with the ground truth computed from the plan.

Usage (server on loopback, admin token from ``--user-token``):

    python scripts/make_labelstudio_fixtures.py \\
        --url http://127.0.0.1:8089 --token ADMIN_TOKEN \\
        --out tests/fixtures/labelstudio

The server must be fresh (no project named "Defect inspection", annotators not
yet signed up); re-running against the same server logs existing annotators in
instead of signing them up but creates a second project.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path

PROJECT_TITLE = "Defect inspection"
LABELS = ["critical_defect", "cosmetic_blemish", "no_defect"]

LABEL_CONFIG = """<View>
  <Header value="Inspection note"/>
  <Text name="text" value="$text"/>
  <Choices name="defect" toName="text" choice="single" showInLine="true">
    <Choice value="critical_defect"/>
    <Choice value="cosmetic_blemish"/>
    <Choice value="no_defect"/>
  </Choices>
  <TextArea name="comment" toName="text" placeholder="Optional comment"
            maxSubmissions="1" editable="true"/>
  <Rating name="confidence" toName="text" maxRating="5"/>
</View>"""

ADMIN_NAME = ("Morgan", "Reyes")

# email, first, last, accuracy, mean lead time (s)
ANNOTATORS = [
    ("alice.nguyen@example.com", "Alice", "Nguyen", 0.95, 14.0),
    ("bob.okafor@example.com", "Bob", "Okafor", 0.85, 22.0),
    ("carla.mendes@example.com", "Carla", "Mendes", 0.90, 9.0),
    ("dmitri.volkov@example.com", "Dmitri", "Volkov", 0.60, 3.5),
]

# (defect true label, note text)
NOTES = [
    ("critical_defect", "Housing cracked through next to the USB-C port; internal board visible."),
    ("no_defect", "Unit passes visual check, all screws present, label aligned."),
    ("cosmetic_blemish", "Light scuff on the lower left corner of the front bezel, about 3 mm."),
    ("no_defect", "Clean surface, no marks under the inspection lamp."),
    ("critical_defect", "Battery compartment swollen, lid does not close."),
    ("cosmetic_blemish", "Paint run on the back cover, does not affect function."),
    ("no_defect", "Serial plate readable, gasket seated, no scratches."),
    (
        "cosmetic_blemish",
        "Two fine hairline scratches on the display glass, only visible at an angle.",
    ),
    ("critical_defect", "Power button missing; spring exposed."),
    ("no_defect", "Packaging dented but the unit itself is untouched."),
    ("cosmetic_blemish", "Logo print slightly off-centre (about 1 mm)."),
    ("no_defect", "All ports clean; no residue from the moulding process."),
    ("critical_defect", "Screen flickers and shows a dead column of pixels."),
    ("cosmetic_blemish", "Small dust particle trapped under the protective film."),
    ("no_defect", "Matches the golden sample photo in every respect."),
    ("critical_defect", "Charging pin bent, connector will not seat."),
    ("cosmetic_blemish", "Fingerprint smudge baked into the coating on the side."),
    ("no_defect", "No visible issue; rubber feet all attached."),
    ("cosmetic_blemish", "Colour of the left side panel is a shade lighter than the right."),
    ("critical_defect", "Sharp burr on the edge of the metal frame, can cut skin."),
    ("no_defect", "Inspection photo is blurry but the unit looks fine."),
    ("cosmetic_blemish", "Tiny chip in the paint near a screw hole."),
    ("no_defect", "Cable routing correct, strain relief intact."),
    ("critical_defect", "Rattling inside when shaken; loose component."),
    ("no_defect", "Surface texture uniform; no sink marks."),
    ("cosmetic_blemish", "Label has a small air bubble at one corner."),
    ("no_defect", "Unit sealed, tamper sticker unbroken, no marks."),
    ("critical_defect", "Scorch mark near the power inlet; smells burnt."),
    ("cosmetic_blemish", "Minor discoloration on the rubber grip."),
    ("no_defect", "Second inspection of a returned unit: nothing found."),
]

# Edge cases, as (0-based task index, annotator index). Which annotators work on
# which task is drawn from the seeded RNG in build_plan(); these override it.
SKIPS = {(4, 3), (11, 1), (20, 2)}  # (task index, annotator index) skipped
GOLD_BY_ADMIN = [2, 9]  # admin creates the gold annotation
GOLD_BY_ANNOTATOR = (16, 0)  # alice's annotation on task 17 is starred
RICH_TASK = 7  # task with TextArea / Rating results
FROM_DRAFT = {(0, 0), (1, 0), (2, 1), (5, 2)}  # submitted from a saved draft
PENDING_DRAFT = (28, 2)  # carla leaves an unsubmitted draft
UNANNOTATED_TASK = 29  # no annotation in the first export
LATER_NEW = [(29, 0), (29, 1), (26, 3), (24, 2), (13, 0)]  # added before export_later
LATER_UPDATE = (1, 1)  # bob changes his label on task 2


def log(message: str) -> None:
    sys.stderr.write(message + "\n")


class Client:
    """Minimal JSON REST client (token auth) on top of urllib."""

    def __init__(self, base: str, token: str | None = None, opener=None):
        self.base = base.rstrip("/")
        self.token = token
        self.opener = opener or urllib.request.build_opener()

    def request(self, method: str, path: str, body=None, raw: bool = False):
        url = self.base + path
        data = None
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = "Token " + self.token
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=120) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")[:2000]
            raise SystemExit(f"{method} {path} -> HTTP {err.code}: {detail}") from None
        if raw:
            return payload
        return json.loads(payload) if payload else None

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None):
        return self.request("POST", path, body)

    def patch(self, path, body):
        return self.request("PATCH", path, body)


def browser_session(base: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    return jar, opener


def csrf_from(jar) -> str:
    for cookie in jar:
        if cookie.name == "csrftoken":
            return cookie.value
    raise SystemExit("no csrftoken cookie from the server")


def form_post(opener, jar, url: str, fields: dict) -> str:
    fields = dict(fields, csrfmiddlewaretoken=csrf_from(jar))
    req = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(fields).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": url},
    )
    with opener.open(req, timeout=120) as resp:
        return resp.geturl()


def annotator_token(base: str, invite_path: str, email: str, password: str) -> str:
    """Sign up through the invite link (or log in if the account exists).

    Returns the user's own API token, read with the browser session.
    """
    jar, opener = browser_session(base)
    signup_url = base + invite_path
    opener.open(signup_url, timeout=120).read()
    form_post(opener, jar, signup_url, {"email": email, "password": password})
    probe = Client(base, opener=opener)
    try:
        return probe.get("/api/current-user/token")["token"]
    except SystemExit:
        pass
    # Already registered: log in instead.
    jar, opener = browser_session(base)
    login_url = base + "/user/login/"
    opener.open(login_url, timeout=120).read()
    form_post(opener, jar, login_url, {"email": email, "password": password})
    return Client(base, opener=opener).get("/api/current-user/token")["token"]


def result_id(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return "".join(rng.choice(alphabet) for _ in range(10))


def choice_result(rng, label):
    return {
        "id": result_id(rng),
        "type": "choices",
        "value": {"choices": [label]},
        "origin": "manual",
        "to_name": "text",
        "from_name": "defect",
    }


def textarea_result(rng, text):
    return {
        "id": result_id(rng),
        "type": "textarea",
        "value": {"text": [text]},
        "origin": "manual",
        "to_name": "text",
        "from_name": "comment",
    }


def rating_result(rng, value):
    return {
        "id": result_id(rng),
        "type": "rating",
        "value": {"rating": value},
        "origin": "manual",
        "to_name": "text",
        "from_name": "confidence",
    }


def build_plan(rng: random.Random):
    """Return {task index: [annotator index, ...]} for the first export."""
    plan = {}
    single = {6, 14, 22}  # tasks with exactly one annotation
    for t in range(len(NOTES)):
        if t == UNANNOTATED_TASK:
            plan[t] = []
            continue
        n = 1 if t in single else rng.choice([2, 2, 3, 3, 3])
        plan[t] = sorted(rng.sample(range(len(ANNOTATORS)), n))
    # make sure every explicit edge case has its annotator on the task
    for t, a in list(SKIPS) + list(FROM_DRAFT) + [GOLD_BY_ANNOTATOR, LATER_UPDATE]:
        if a not in plan[t]:
            plan[t] = sorted(plan[t] + [a])
    plan[RICH_TASK] = sorted(set(plan[RICH_TASK]) | {0, 1})
    for t, a in LATER_NEW + [PENDING_DRAFT]:
        if a in plan[t]:
            plan[t].remove(a)
    return plan


def pick_label(rng, truth, accuracy):
    if rng.random() < accuracy:
        return truth
    return rng.choice([lab for lab in LABELS if lab != truth])


def lead_time(rng, mean):
    return round(max(0.8, rng.gauss(mean, mean * 0.35)), 3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--url", required=True, help="Label Studio base URL, e.g. http://127.0.0.1:8089"
    )
    ap.add_argument("--token", required=True, help="admin API token (legacy token auth)")
    ap.add_argument(
        "--annotator-password",
        default="annotator-pass-123",
        help="password given to the annotators",
    )
    ap.add_argument("--out", default="tests/fixtures/labelstudio", help="output directory")
    ap.add_argument("--seed", type=int, default=20240611)
    args = ap.parse_args(argv)

    rng = random.Random(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    admin = Client(args.url, args.token)

    me = admin.get("/api/current-user/whoami")
    admin.patch(
        f"/api/users/{me['id']}/", {"first_name": ADMIN_NAME[0], "last_name": ADMIN_NAME[1]}
    )

    # --- annotators -------------------------------------------------------
    invite = admin.get("/api/invite")["invite_url"]
    users = []  # (user id, Client)
    for email, first, last, _acc, _lt in ANNOTATORS:
        token = annotator_token(args.url, invite, email, args.annotator_password)
        client = Client(args.url, token)
        uid = client.get("/api/current-user/whoami")["id"]
        client.patch(f"/api/users/{uid}/", {"first_name": first, "last_name": last})
        users.append((uid, client))
        log(f"annotator {email} -> user id {uid}")

    # --- project and tasks -------------------------------------------------
    project = admin.post(
        "/api/projects/",
        {
            "title": PROJECT_TITLE,
            "description": "Classify inspection notes of returned units.",
            "label_config": LABEL_CONFIG,
            "maximum_annotations": 3,
            "show_skip_button": True,
        },
    )
    pid = project["id"]
    tasks_payload = [
        {
            "text": text,
            "item_ref": f"INSP-{i + 1:04d}",
            "batch": "2024-06-A" if i < 15 else "2024-06-B",
        }
        for i, (_truth, text) in enumerate(NOTES)
    ]
    imported = admin.post(f"/api/projects/{pid}/import?return_task_ids=true", tasks_payload)
    task_ids = imported.get("task_ids")
    if not task_ids or len(task_ids) != len(NOTES):
        listing = admin.get(f"/api/tasks/?project={pid}&page_size=1000")
        by_ref = {t["data"]["item_ref"]: t["id"] for t in listing["tasks"]}
        task_ids = [by_ref[f"INSP-{i + 1:04d}"] for i in range(len(NOTES))]
    log(f"project {pid}, tasks {task_ids[0]}..{task_ids[-1]}")

    # --- annotations -------------------------------------------------------
    plan = build_plan(rng)
    ann_ids = {}  # (task index, annotator index) -> annotation id
    labels_given = {}  # (task index, annotator index) -> label or None

    def submit(t, a, phase_note=""):
        uid, client = users[a]
        _email, _f, _l, acc, mean_lt = ANNOTATORS[a]
        truth = NOTES[t][0]
        tid = task_ids[t]
        body = {"lead_time": lead_time(rng, mean_lt), "project": pid}
        path = f"/api/tasks/{tid}/annotations/"
        if (t, a) in SKIPS:
            body["lead_time"] = round(rng.uniform(1.0, 4.0), 3)
            body["result"] = []
            body["was_cancelled"] = True
            path += "?was_cancelled=1"
            label = None
        elif t == RICH_TASK and a == 1:
            # comment only, no choice selected
            body["result"] = [textarea_result(rng, "Cannot tell from the note; needs a photo.")]
            label = None
        else:
            label = pick_label(rng, truth, acc)
            body["result"] = [choice_result(rng, label)]
            if t == RICH_TASK and a == 0:
                body["result"].append(textarea_result(rng, "Scratches only visible at an angle."))
                body["result"].append(rating_result(rng, 4))
        if (t, a) in FROM_DRAFT:
            draft = client.post(
                f"/api/tasks/{tid}/drafts",
                {"result": body["result"], "lead_time": round(body["lead_time"] / 2, 3)},
            )
            body["draft_id"] = draft["id"]
        created = client.post(path, body)
        ann_ids[(t, a)] = created["id"]
        labels_given[(t, a)] = label
        return created

    for t in range(len(NOTES)):
        for a in plan[t]:
            submit(t, a)

    # pending draft that is never submitted
    dt, da = PENDING_DRAFT
    users[da][1].post(
        f"/api/tasks/{task_ids[dt]}/drafts",
        {"result": [choice_result(rng, "cosmetic_blemish")], "lead_time": 5.5},
    )

    # gold annotations
    gold = {}
    for t in GOLD_BY_ADMIN:
        created = admin.post(
            f"/api/tasks/{task_ids[t]}/annotations/",
            {
                "result": [choice_result(rng, NOTES[t][0])],
                "lead_time": lead_time(rng, 30.0),
                "project": pid,
            },
        )
        admin.patch(f"/api/annotations/{created['id']}/", {"ground_truth": True})
        gold[t] = (created["id"], NOTES[t][0], "admin")
    gt, ga = GOLD_BY_ANNOTATOR
    admin.patch(f"/api/annotations/{ann_ids[(gt, ga)]}/", {"ground_truth": True})
    gold[gt] = (ann_ids[(gt, ga)], labels_given[(gt, ga)], ANNOTATORS[ga][0])

    # --- first export ------------------------------------------------------
    def export(kind, filename):
        payload = admin.get(f"/api/projects/{pid}/export?exportType={kind}", raw=True)
        if kind.startswith("JSON"):
            payload = (
                json.dumps(json.loads(payload), indent=1, ensure_ascii=False) + "\n"
            ).encode()
        (out / filename).write_bytes(payload)
        log(f"wrote {out / filename} ({len(payload)} bytes)")

    export("JSON", "export.json")
    export("JSON_MIN", "export_min.json")
    export("CSV", "export.csv")
    users_list = admin.get("/api/users/")
    (out / "users.json").write_text(json.dumps(users_list, indent=1, ensure_ascii=False) + "\n")

    snapshot_first = dict(labels_given)

    # --- later changes and second export -------------------------------------
    time.sleep(2)
    for t, a in LATER_NEW:
        submit(t, a)
    ut, ua = LATER_UPDATE
    old_label = labels_given[(ut, ua)]
    new_label = NOTES[ut][0] if old_label != NOTES[ut][0] else "cosmetic_blemish"
    users[ua][1].patch(
        f"/api/annotations/{ann_ids[(ut, ua)]}/",
        {
            "result": [choice_result(rng, new_label)],
            "lead_time": lead_time(rng, ANNOTATORS[ua][4]) + 20,
        },
    )
    labels_given[(ut, ua)] = new_label
    export("JSON", "export_later.json")

    # --- expected values -----------------------------------------------------
    def summarize(labels, extra_gold_annotations):
        per_user = defaultdict(lambda: {"annotations": 0, "skipped": 0, "labelled": 0})
        for (t, a), label in labels.items():
            email = ANNOTATORS[a][0]
            per_user[email]["annotations"] += 1
            if (t, a) in SKIPS:
                per_user[email]["skipped"] += 1
            elif label is not None:
                per_user[email]["labelled"] += 1
        per_user[me["email"]] = {
            "annotations": extra_gold_annotations,
            "skipped": 0,
            "labelled": extra_gold_annotations,
        }
        tasks_with = {t for (t, _a) in labels} | set(GOLD_BY_ADMIN)
        tasks_with_kept = {t for (t, a) in labels if (t, a) not in SKIPS} | set(GOLD_BY_ADMIN)
        total = sum(v["annotations"] for v in per_user.values())
        skipped = sum(v["skipped"] for v in per_user.values())
        return {
            "tasks_in_export": len(tasks_with),
            "annotations_total": total,
            "annotations_skipped": skipped,
            "rows_in_json_min_and_csv": total - skipped,
            "tasks_in_json_min_and_csv": len(tasks_with_kept),
            "per_user": dict(sorted(per_user.items())),
        }

    uid_by_email = {ANNOTATORS[a][0]: users[a][0] for a in range(len(ANNOTATORS))}
    uid_by_email[me["email"]] = me["id"]

    def rows(labels):
        out_rows = [
            {
                "item_ref": f"INSP-{t + 1:04d}",
                "task_id": task_ids[t],
                "annotation_id": ann_ids[(t, a)],
                "annotator": ANNOTATORS[a][0],
                "user_id": users[a][0],
                "label": label,
                "was_cancelled": (t, a) in SKIPS,
                "ground_truth": gold.get(t, (None,))[0] == ann_ids[(t, a)],
            }
            for (t, a), label in labels.items()
        ]
        out_rows += [
            {
                "item_ref": f"INSP-{t + 1:04d}",
                "task_id": task_ids[t],
                "annotation_id": aid,
                "annotator": me["email"],
                "user_id": me["id"],
                "label": label,
                "was_cancelled": False,
                "ground_truth": True,
            }
            for t, (aid, label, who) in gold.items()
            if who == "admin"
        ]
        return sorted(out_rows, key=lambda r: r["annotation_id"])

    expected = {
        "label_studio_version": admin.get("/api/version").get("release"),
        "project_id": pid,
        "project_title": PROJECT_TITLE,
        "tasks_created": len(NOTES),
        "task_ids": {f"INSP-{i + 1:04d}": task_ids[i] for i in range(len(NOTES))},
        "generator_labels_not_in_export": {
            f"INSP-{i + 1:04d}": NOTES[i][0] for i in range(len(NOTES))
        },
        "user_ids": uid_by_email,
        "golden": [
            {
                "item_ref": f"INSP-{t + 1:04d}",
                "task_id": task_ids[t],
                "annotation_id": aid,
                "gold_label": label,
                "by": who,
            }
            for t, (aid, label, who) in sorted(gold.items())
        ],
        "rich_result_task": {
            "item_ref": f"INSP-{RICH_TASK + 1:04d}",
            "task_id": task_ids[RICH_TASK],
            "note": "alice: choices+textarea+rating; bob: textarea only (no choice)",
        },
        "pending_draft": {
            "item_ref": f"INSP-{dt + 1:04d}",
            "task_id": task_ids[dt],
            "user": ANNOTATORS[da][0],
        },
        "from_draft": sorted(ann_ids[k] for k in FROM_DRAFT),
        "export": summarize(snapshot_first, len(GOLD_BY_ADMIN)),
        "export_annotations": rows(snapshot_first),
        "export_later": summarize(labels_given, len(GOLD_BY_ADMIN)),
        "export_later_new_annotation_ids": sorted(ann_ids[k] for k in LATER_NEW),
        "export_later_updated": {
            "annotation_id": ann_ids[(ut, ua)],
            "item_ref": f"INSP-{ut + 1:04d}",
            "old_label": old_label,
            "new_label": new_label,
        },
        "export_later_annotations": rows(labels_given),
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    summary = {k: expected[k] for k in ("export", "export_later", "golden")}
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
