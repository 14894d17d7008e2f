"""Which pages each role sees, as st.Page objects built from ops.pages.

Hiding a page is convenience; ops/ enforces permissions.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ops.pages import pages_for_role

PAGES_DIR = Path(__file__).parent / "pages"


def pages_for(role: str) -> dict[str, list[st.Page]]:
    """st.Page objects for ``role`` by section; an unknown role gets none.

    Each page's URL path is its slug, so deep links stay the same whatever the title.
    """
    sections: dict[str, list[st.Page]] = {}
    for index, page in enumerate(pages_for_role(role)):
        sections.setdefault(page.section, []).append(
            st.Page(
                PAGES_DIR / page.file,
                title=page.title,
                icon=page.icon,
                url_path=page.slug,
                default=index == 0,
            )
        )
    return sections
