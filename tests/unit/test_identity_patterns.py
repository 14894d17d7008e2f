"""One shape of an e-mail and of a platform name, for imports and for the pool alike."""

from __future__ import annotations

import pytest

from ops.identities import EMAIL_PATTERN, IDENTITY_KEY_PATTERN, PLATFORM_PATTERN
from ops.importers.fields import person_key


@pytest.mark.parametrize(
    ("text", "is_email"),
    [
        ("ana@example.org", True),
        ("ana.lopez+qa@example.co.uk", True),
        ("ana@example", False),
        ("ana example@example.org", False),
        # A colon before the @ makes it a platform id, never an e-mail.
        ("labelstudio:ana@example.org", False),
        ("@example.org", False),
    ],
)
def test_email_pattern(text: str, is_email: bool) -> None:
    assert bool(EMAIL_PATTERN.match(text)) is is_email


@pytest.mark.parametrize(
    ("name", "is_platform"),
    [
        ("labelstudio", True),
        ("cvat", True),
        ("vendor-x", True),
        ("vendor.x_2", True),
        ("x", True),
        ("Label Studio!", False),
        ("3d-tool", False),
        ("", False),
        ("a" * 41, False),
    ],
)
def test_platform_pattern(name: str, is_platform: bool) -> None:
    assert bool(PLATFORM_PATTERN.match(name)) is is_platform
    # A platform the pool accepts is one an import can name, and the other way round.
    assert bool(IDENTITY_KEY_PATTERN.match(f"{name}:12")) is is_platform
    assert (person_key(f"{name}:12") is not None) is is_platform
