"""The demo: a deterministic, realistic operation that tells the stories annops exists
to catch, at any size from 20 annotators and 5,000 events to 50,000 and 50 million.

``story`` casts the people and projects, ``generator`` makes the events (numpy, in
chunks), ``loader`` writes it all to an empty database in one transaction. Same seed
and same end date give the same data.
"""

from ops.demo.loader import DemoRefused, database_state, load_demo, wipe_demo
from ops.demo.story import (
    MAX_ANNOTATORS,
    MAX_EVENTS,
    MIN_ANNOTATORS,
    MIN_EVENTS,
    DemoConfig,
    unique_names,
)

__all__ = [
    "MAX_ANNOTATORS",
    "MAX_EVENTS",
    "MIN_ANNOTATORS",
    "MIN_EVENTS",
    "DemoConfig",
    "DemoRefused",
    "database_state",
    "load_demo",
    "unique_names",
    "wipe_demo",
]
