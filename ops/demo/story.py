"""The demo's story: its projects, the people in the pool, and who plays which part.

Five named people carry the stories annops exists to catch (a steady high performer,
three fast but inaccurate contractors, a domain expert whose training ran out); the
rest of the pool is cast from the seed. Nothing here touches the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import string
from dataclasses import dataclass, field

import numpy as np

from ops.errors import ValidationError

MIN_ANNOTATORS = 20
MAX_ANNOTATORS = 50_000
MIN_EVENTS = 5_000
MAX_EVENTS = 50_000_000


@dataclass(frozen=True)
class DemoConfig:
    """Size, seed and end date of the demo story."""

    annotators: int = 60
    events: int = 200_000
    seed: int = 7
    end: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())

    def __post_init__(self) -> None:
        # Below the minimums the stories have too few people or golden items to show;
        # above the maximums the demo is untested and names would run out.
        if not MIN_ANNOTATORS <= self.annotators <= MAX_ANNOTATORS:
            raise ValidationError(
                f"The demo builds {MIN_ANNOTATORS} to {MAX_ANNOTATORS:,} annotators, "
                f"not {self.annotators:,}.",
                field="annotators",
            )
        if not MIN_EVENTS <= self.events <= MAX_EVENTS:
            raise ValidationError(
                f"The demo builds {MIN_EVENTS:,} to {MAX_EVENTS:,} events, not {self.events:,}.",
                field="events",
            )
        if self.seed < 0:
            raise ValidationError(
                f"The demo's seed is a whole number of 0 or more, not {self.seed}.", field="seed"
            )


@dataclass(frozen=True)
class ProjectSpec:
    slug: str
    name: str
    client: str
    domain: str
    task_type: str
    complexity: str
    labels: tuple[str, ...]
    share: float
    base_seconds: float
    quality_target: float
    started_days_ago: int
    required_skills: tuple[str, ...] = ()
    # Budget and volume are set from the generated work so the story holds at any size:
    # (share of budget already spent, share of volume already done).
    burn: tuple[float, float] = (0.5, 0.5)
    # Share of the item pool that is hidden golden items.
    gold_share: float = 0.1


PROJECTS = (
    ProjectSpec(
        "defect-inspection",
        "Weld seam defect inspection",
        "Northwind Fabrication",
        "manufacturing",
        "image_classification",
        "complex",
        ("critical_defect", "cosmetic_blemish", "no_defect"),
        0.25,
        45.0,
        0.92,
        110,
        ("defect-inspection",),
        (0.48, 0.55),
        # A complex project the client audits closely: twice the usual golden items, so
        # even a small pool shows who confuses blemishes with defects.
        gold_share=0.2,
    ),
    ProjectSpec(
        "retail-sentiment",
        "Retail review sentiment",
        "Bluebird Retail",
        "e-commerce",
        "text_classification",
        "moderate",
        ("positive", "negative", "neutral", "mixed"),
        0.30,
        24.0,
        0.90,
        118,
        (),
        (0.55, 0.6),
    ),
    ProjectSpec(
        "street-scenes",
        "Street scene tagging",
        "Metro Mobility Lab",
        "autonomous-driving",
        "image_classification",
        "simple",
        ("car", "pedestrian", "cyclist", "empty"),
        0.25,
        11.0,
        0.88,
        60,
        (),
        (0.86, 0.42),
    ),
    ProjectSpec(
        "support-intents",
        "Support ticket intents",
        "Helio Software",
        "customer-support",
        "text_classification",
        "simple",
        ("billing", "technical", "account", "other"),
        0.20,
        18.0,
        0.90,
        100,
        (),
        (0.45, 0.5),
    ),
)


@dataclass(frozen=True)
class GuidelineSpec:
    version: str
    days_ago: int  # in effect from this many days before the demo's end
    summary: str
    is_major: bool = False


GUIDELINE_CHANGES = {
    "retail-sentiment": (
        GuidelineSpec(
            "v2",
            30,
            "Sarcastic praise is now 'negative'; reviews with both praise and "
            "complaint are 'mixed' instead of 'neutral'.",
            is_major=True,
        ),
    ),
    "defect-inspection": (
        GuidelineSpec("v1.1", 70, "Added reference photos for porosity and spatter."),
    ),
}


def guideline_history(spec: ProjectSpec) -> tuple[GuidelineSpec, ...]:
    """A project's guideline versions, oldest first: the first release, then its changes."""
    first = GuidelineSpec("v1", spec.started_days_ago, "First release of the labeling guidelines.")
    return (first, *GUIDELINE_CHANGES.get(spec.slug, ()))


TEAMS = ("Vision", "Text", "Mixed", "Vendor pool")
LEAD_PROJECTS = {
    "Vision": ("defect-inspection", "street-scenes"),
    "Text": ("retail-sentiment", "support-intents"),
    "Mixed": ("retail-sentiment", "street-scenes"),
    "Vendor pool": ("street-scenes",),
}

# fmt: off
FIRST_NAMES = (
    "Lena", "Mateo", "Aisha", "Jonas", "Mei", "Tomasz", "Ines", "Kwame", "Sofia", "Ravi",
    "Elif", "Noah", "Yara", "Diego", "Hana", "Luca", "Zainab", "Oskar", "Nia", "Arjun",
    "Freya", "Emil", "Leila", "Bruno", "Chloe", "Omar", "Ingrid", "Tariq", "Maya", "Felix",
    "Ana", "Sven", "Rosa", "Idris", "Clara", "Yusuf", "Elena", "Kofi", "Mira", "Pavel",
    "Selin", "Hugo", "Asha", "Nils", "Lucia", "Imran", "Greta", "Samir", "Talia", "Victor",
    "Farah", "Anton", "Keiko", "Marco", "Ada", "Joel", "Nadia", "Rafael", "Eva", "Ken",
)
LAST_NAMES = (
    "Fischer", "Alvarez", "Rahman", "Berg", "Chen", "Nowak", "Moreau", "Mensah", "Rossi",
    "Iyer", "Demir", "Weber", "Haddad", "Torres", "Sato", "Bianchi", "Bello", "Lund",
    "Okoro", "Patel", "Hansen", "Kowalski", "Amini", "Costa", "Dubois", "Farouk", "Larsen",
    "Aziz", "Cohen", "Wagner", "Silva", "Nilsson", "Garcia", "Idowu", "Keller", "Yilmaz",
    "Popescu", "Owusu", "Novak",
)
# fmt: on
MIDDLE_INITIALS = string.ascii_uppercase
PLAIN_NAMES = len(FIRST_NAMES) * len(LAST_NAMES)
NAME_CAPACITY = PLAIN_NAMES * (1 + len(MIDDLE_INITIALS))


@dataclass(frozen=True)
class Profile:
    """Who someone is in the story: team, standing, and how they work."""

    team: str
    tier: str = "annotator"
    status: str = "active"
    employment: str = "employee"
    accuracy: float = 0.93
    speed: float = 1.0  # multiplier on time per item; < 1 is faster
    productivity: float = 1.0  # relative share of a project's work
    skills: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()


@dataclass
class Person:
    """One annotator of the demo; ``id`` is set once they are stored."""

    key: str
    name: str
    profile: Profile
    id: int = 0

    @property
    def email(self) -> str:
        return ".".join(part.strip(".").lower() for part in self.name.split()) + (
            "@annotators.example"
        )


FAST_BUT_INACCURATE = Profile(
    team="Mixed",
    employment="contractor",
    accuracy=0.70,
    speed=0.38,
    productivity=1.4,
    projects=("street-scenes", "retail-sentiment"),
)
# The named people the stories are about. Their first names are not in FIRST_NAMES,
# so no one else in the pool can share their name.
STORY_CAST = {
    # Steady high performer; qualifies for reviewer. Accurate enough that chance alone
    # does not make her drift even with thousands of golden items.
    "amara": (
        "Amara Okafor",
        Profile(
            team="Text",
            accuracy=0.985,
            speed=0.95,
            productivity=1.6,
            projects=("retail-sentiment", "support-intents"),
        ),
    ),
    "rex": (
        "Rex Turner",
        dataclasses.replace(FAST_BUT_INACCURATE, team="Vision", projects=("defect-inspection",)),
    ),
    "dana": ("Dana Voss", FAST_BUT_INACCURATE),
    "milo": ("Milo Park", FAST_BUT_INACCURATE),
    # Domain training expired, still assigned.
    "priya": (
        "Priya Nair",
        Profile(team="Vision", skills=("defect-inspection",), projects=("defect-inspection",)),
    ),
}
CANDIDATES = 3
INACTIVE = 2


def unique_names(count: int, rng: np.random.Generator) -> list[str]:
    """``count`` different names: first-last pairs in a random order, then the same
    pairs with a middle initial. Each name is one index into that space, so names
    are unique by construction, up to NAME_CAPACITY."""
    if not 0 <= count <= NAME_CAPACITY:
        raise ValueError(f"the demo has {NAME_CAPACITY:,} names, not {count:,}")
    lasts = len(LAST_NAMES)
    names = [
        f"{FIRST_NAMES[index // lasts]} {LAST_NAMES[index % lasts]}"
        for index in rng.permutation(PLAIN_NAMES)[:count].tolist()
    ]
    initialled = rng.permutation(PLAIN_NAMES * len(MIDDLE_INITIALS))[: count - len(names)]
    for index in initialled.tolist():
        pair, initial = divmod(index, len(MIDDLE_INITIALS))
        first, last = divmod(pair, lasts)
        names.append(f"{FIRST_NAMES[first]} {MIDDLE_INITIALS[initial]}. {LAST_NAMES[last]}")
    return names


def cast_people(config: DemoConfig, rng: np.random.Generator) -> list[Person]:
    """The annotator pool: team leads, the story cast, the regular pool, then
    candidates and people who left."""
    names = iter(unique_names(config.annotators - len(STORY_CAST), rng))
    people = [
        Person(
            f"lead-{team}",
            next(names),
            Profile(
                team=team,
                tier="lead",
                accuracy=0.95,
                speed=1.1,
                productivity=0.3,
                skills=("defect-inspection",) if team == "Vision" else (),
                projects=LEAD_PROJECTS[team],
            ),
        )
        for team in TEAMS
    ]
    people += [Person(key, name, profile) for key, (name, profile) in STORY_CAST.items()]
    regular = config.annotators - len(people) - CANDIDATES - INACTIVE
    reviewers = max(4, config.annotators // 8)
    accuracy = np.clip(rng.normal(0.925, 0.025, size=regular), 0.85, 0.97)
    speed = np.clip(rng.normal(1.0, 0.15, size=regular), 0.7, 1.4)
    productivity = np.clip(rng.normal(1.0, 0.25, size=regular), 0.4, 1.6)
    for index in range(regular):
        profile = dataclasses.replace(
            _pool_profile(index),
            tier="reviewer" if index < reviewers else "annotator",
            accuracy=float(accuracy[index]),
            speed=float(speed[index]),
            productivity=float(productivity[index]),
        )
        people.append(Person(f"pool-{index}", next(names), profile))
    for index in range(CANDIDATES):
        team = TEAMS[index % len(TEAMS)]
        profile = Profile(
            team=team, status="candidate", employment="contractor", accuracy=0.85, productivity=0
        )
        people.append(Person(f"candidate-{index}", next(names), profile))
    for index in range(INACTIVE):
        team = TEAMS[index % len(TEAMS)]
        profile = Profile(
            team=team, status="inactive", employment="contractor", accuracy=0.9, productivity=0
        )
        people.append(Person(f"inactive-{index}", next(names), profile))
    return people


def _pool_profile(index: int) -> Profile:
    """Team, projects and standing of the ``index``-th member of the regular pool."""
    team = TEAMS[index % len(TEAMS)]
    projects: tuple[str, ...]
    if team == "Vision":
        projects = ("defect-inspection",) if index % 2 else ("street-scenes",)
        if index % 8 == 0:
            projects = ("defect-inspection", "street-scenes")
    elif team == "Text":
        projects = ("retail-sentiment",) if index % 2 else ("support-intents",)
    elif team == "Mixed":
        projects = ("retail-sentiment", "street-scenes") if index % 2 else ("support-intents",)
    else:
        projects = ("street-scenes",)
    employment = "employee" if index % 3 else "contractor"
    if team == "Vendor pool":
        employment = "vendor"
    return Profile(
        team=team,
        status="probation" if index % 17 == 5 else "active",
        employment=employment,
        skills=("defect-inspection",) if team == "Vision" and index % 3 == 0 else (),
        projects=projects,
    )
