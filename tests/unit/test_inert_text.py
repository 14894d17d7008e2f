"""dashboard.text.inert: what Markdown would act on is escaped, and nothing autolinks."""

from __future__ import annotations

import re

import pytest

from dashboard.text import WORD_JOINER, inert

# An unescaped ](, or a scheme, www. or email that GitHub-flavoured Markdown would link.
LIVE = re.compile(r"(?<!\\)\]\(|https?://|www\.|\w@\w")


@pytest.mark.parametrize(
    "text",
    [
        "![px](http://127.0.0.1:8721/pixel.png)",
        "[x](http://evil)",
        "see https://evil.example now",
        "www.evil.example",
        "mail me: ada@evil.example",
        "<img src=x onerror=alert(1)>",
        ":red[loud] :skull:",
        "# heading\n- item",
    ],
)
def test_nothing_markdown_would_act_on_is_left(text: str) -> None:
    shown = inert(text)
    assert not LIVE.search(shown)
    # Reading the escapes and joiners away gives back exactly the text.
    assert re.sub(r"\\(.)", r"\1", shown).replace(WORD_JOINER, "") == text


def test_plain_names_stay_as_they_are() -> None:
    assert inert("Ada Lovelace") == "Ada Lovelace"
    assert inert(None) == ""
