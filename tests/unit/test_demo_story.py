"""The demo's cast and generator at any supported size, without a database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ops.cli import app
from ops.demo import generator
from ops.demo.generator import EventTarget, event_frames, project_event_counts, work_weights
from ops.demo.story import (
    FIRST_NAMES,
    NAME_CAPACITY,
    PLAIN_NAMES,
    PROJECTS,
    STORY_CAST,
    DemoConfig,
    Person,
    Profile,
    cast_people,
    unique_names,
)
from ops.errors import ValidationError

END = dt.date(2026, 6, 30)


def test_names_stay_unique_far_beyond_the_first_and_last_name_pairs() -> None:
    names = unique_names(60_000, np.random.default_rng(3))
    assert len(names) == 60_000 > PLAIN_NAMES
    assert len(set(names)) == len(names)
    # Plain "First Last" names come first; a middle initial only once they are used up.
    assert all(len(name.split()) == 2 for name in names[:PLAIN_NAMES])
    assert all(len(name.split()) == 3 for name in names[PLAIN_NAMES:])
    assert unique_names(500, np.random.default_rng(3)) == names[:500]
    assert unique_names(500, np.random.default_rng(4)) != names[:500]


def test_the_name_space_has_an_end_and_says_so() -> None:
    assert len(set(unique_names(NAME_CAPACITY, np.random.default_rng(0)))) == NAME_CAPACITY
    with pytest.raises(ValueError, match="63,180 names"):
        unique_names(NAME_CAPACITY + 1, np.random.default_rng(0))


def test_no_one_in_the_pool_can_take_a_story_persons_name() -> None:
    story_first_names = {name.split()[0] for name, _profile in STORY_CAST.values()}
    assert not story_first_names & set(FIRST_NAMES)


def test_a_large_cast_has_one_email_per_person() -> None:
    people = cast_people(DemoConfig(annotators=5_000, end=END), np.random.default_rng(1))
    assert len(people) == 5_000
    assert len({person.email for person in people}) == 5_000
    assert {"amara.okafor@annotators.example", "rex.turner@annotators.example"} <= {
        person.email for person in people
    }
    initialled = next(person for person in people if len(person.name.split()) == 3)
    first, initial, last = initialled.name.split()
    assert initialled.email == f"{first}.{initial[0]}.{last}@annotators.example".lower()


@pytest.mark.parametrize(
    ("annotators", "events", "seed", "message"),
    [
        (19, 5_000, 7, "The demo builds 20 to 50,000 annotators, not 19."),
        (50_001, 5_000, 7, "The demo builds 20 to 50,000 annotators, not 50,001."),
        (20, 4_999, 7, "The demo builds 5,000 to 50,000,000 events, not 4,999."),
        (20, 50_000_001, 7, "The demo builds 5,000 to 50,000,000 events, not 50,000,001."),
        (20, 5_000, -1, "The demo's seed is a whole number of 0 or more, not -1."),
    ],
)
def test_sizes_outside_what_the_demo_builds_are_refused(
    annotators: int, events: int, seed: int, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        DemoConfig(annotators=annotators, events=events, seed=seed)
    assert str(refused.value) == message


def test_the_largest_sizes_are_accepted() -> None:
    config = DemoConfig(annotators=50_000, events=50_000_000)
    assert sum(project_event_counts(config.events)) == 50_000_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--annotators", "50001"], "error: The demo builds 20 to 50,000 annotators, not 50,001."),
        (["--events", "60000000"], "error: The demo builds 5,000 to 50,000,000 events, not "),
        (["--annotators", "5"], "error: The demo builds 20 to 50,000 annotators, not 5."),
    ],
)
def test_annops_demo_refuses_an_unsupported_size_before_touching_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    from ops.settings import get_settings

    database = tmp_path / "annops.db"
    monkeypatch.setenv("ANNOPS_DATABASE_URL", f"sqlite:///{database}")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["demo", "--no-serve", *args])
    get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert not database.exists()


def _worker(key: str, productivity: float = 1.0) -> Person:
    return Person(key, key, Profile(team="Text", productivity=productivity))


def test_a_core_team_does_half_the_work_of_a_large_pool() -> None:
    workers = [_worker(f"pool-{index}") for index in range(2_000)]
    workers.insert(20, _worker("amara", productivity=1.6))
    shares = work_weights(workers)
    assert shares.sum() == pytest.approx(1.0)
    core = [index < 16 or person.key == "amara" for index, person in enumerate(workers)]
    assert shares[core].sum() == pytest.approx(0.5)
    # Within each group, shares still follow productivity.
    assert shares[20] == pytest.approx(1.6 * shares[0])


def test_a_small_pool_shares_work_by_productivity_alone() -> None:
    workers = [_worker(f"pool-{index}", productivity=0.5 + index / 10) for index in range(12)]
    productivity = np.array([person.profile.productivity for person in workers])
    np.testing.assert_allclose(work_weights(workers), productivity / productivity.sum())


def test_events_come_in_bounded_chunks_that_add_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generator, "EVENT_CHUNK", 4_000)
    config = DemoConfig(annotators=40, events=30_000, seed=5, end=END)
    people = cast_people(config, np.random.default_rng(5))
    for number, person in enumerate(people, start=1):
        person.id = number
    first_release = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    targets = {
        spec.slug: EventTarget(index, 10 + index, ((100 + index, first_release),))
        for index, spec in enumerate(PROJECTS, start=1)
    }
    frames = list(event_frames(config, people, targets, np.random.default_rng(5)))
    assert max(len(frame) for _slug, frame in frames) == 4_000
    assert sum(len(frame) for _slug, frame in frames) == 30_000
    by_project = dict.fromkeys(targets, 0)
    for slug, frame in frames:
        by_project[slug] += len(frame)
        assert set(frame["project_id"]) == {targets[slug].project_id}
    assert list(by_project.values()) == project_event_counts(30_000)
    external_ids = [value for _slug, frame in frames for value in frame["external_id"]]
    assert len(set(external_ids)) == 30_000
