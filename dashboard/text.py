"""Text from people and imports (names, labels, notes, file names) shown as text.

Streamlit renders Markdown in st.markdown, st.write, titles, captions, messages and widget
labels; an imported name such as ``![px](http://host/pixel.png)`` would load an image there
and ``[x](http://evil)`` would become a link. ``inert`` escapes every character Markdown
(and Streamlit's own :colour[...] and :emoji: syntax) gives a meaning, so the text shows
exactly as written. Dataframe cells and st.text need no escaping.
"""

from __future__ import annotations

import re

MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>:$&=\"'])")


def inert(text: object) -> str:
    """``text`` with Markdown's special characters escaped, to show it as written."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", "" if text is None else str(text))
