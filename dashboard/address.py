"""A page that shows one item at a time, chosen in a select box and named in the address.

The address (?project=slug) lets a link open a given item and lets the user share what
they see. It chooses the item when it is new to the tab: the user arrived by a link, went
back or forward, or another page switched here with it. After that, the select box holds
the user's choice. A click can reach the server while the browser still shows the address
from before the user's last choice (it had not yet taken the new one); that stale address
is the one the browser sent before, so it does not undo the choice.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

import streamlit as st

from dashboard.text import inert

T = TypeVar("T", bound=Hashable)


def choose_by_address(
    key: str, param: str, choices: Mapping[str, T], *, item: str
) -> Callable[[], None]:
    """Put the item the address names into the select box ``key`` if the address is new
    to this tab or the box has no choice yet; return the box's on_change, which writes
    the user's choice into the address.

    ``choices`` maps each value ``param`` may take in the address to the box's option.
    An address naming none of them gets a warning that the box shows another ``item``
    ("person", "project"); whether it exists is not said, as it may be another team's.
    """
    sent_key = f"{key}--address-sent"
    replaced_key = f"{key}--address-replaced"
    addresses = {option: value for value, option in choices.items()}
    in_address = st.query_params.get(param, "")
    # When the user chose in the box this run, the address now says their choice; the
    # browser sent what it said before, which is what the next click may still carry.
    replaced = st.session_state.pop(replaced_key, None)
    sent = in_address if replaced is None else replaced
    new_to_tab = sent != st.session_state.get(sent_key)
    st.session_state[sent_key] = sent
    if replaced is None and in_address in choices and (new_to_tab or key not in st.session_state):
        st.session_state[key] = choices[in_address]
    elif replaced is None and in_address and in_address not in choices:
        st.warning(
            f"The link names a {item} ({inert(in_address[:40])}) you cannot open here: there "
            f"is no such {item}, or it is not one you may see. Another {item} is shown; "
            "choose below.",
            icon=":material/link_off:",
        )

    def follow_choice() -> None:
        st.session_state[replaced_key] = st.query_params.get(param, "")
        chosen = st.session_state[key]
        if chosen in addresses:
            st.query_params[param] = addresses[chosen]

    return follow_choice
