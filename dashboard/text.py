"""Text from people and imports (names, labels, notes, file names) shown as text.

Streamlit renders Markdown in st.markdown, st.write, titles, captions, messages and widget
labels; an imported name such as ``![px](http://host/pixel.png)`` would load an image there
and ``[x](http://evil)`` would become a link. ``inert`` escapes every character Markdown
(and Streamlit's own :colour[...] and :emoji: syntax) gives a meaning, so the text shows
exactly as written. Dataframe cells and st.text need no escaping.

Escaping is not enough for Streamlit's GitHub-flavoured autolinks, which turn any
``http://``, ``www.`` or ``name@host`` in the rendered text into a link; an invisible word
joiner (U+2060) inside each of those keeps the text as it reads and unlinked.
"""

from __future__ import annotations

import re

MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>:$&=\"'])")
AUTOLINK_STARTS = re.compile(r"(?i)(https?|ftp|mailto)(?=:)|(www)(?=\.)|(@)")
WORD_JOINER = "\u2060"


def inert(text: object) -> str:
    """``text`` with Markdown's special characters escaped, to show it as written."""
    unlinked = AUTOLINK_STARTS.sub(
        lambda match: match.group(0) + WORD_JOINER, "" if text is None else str(text)
    )
    return MARKDOWN_SPECIALS.sub(r"\\\1", unlinked)
