"""The browser side of the session cookie: a tiny script that calls the session endpoint.

Streamlit scripts cannot set cookies, and a cookie set from page JavaScript cannot be
HttpOnly. So the logged-in tab POSTs its one-time handoff code to the dashboard's own
endpoint (dashboard/session_endpoint.py), whose response sets the HttpOnly cookie; logging
out DELETEs it. Both requests carry Streamlit's XSRF token, which the endpoint checks.

The app draws the request in every run until the database shows the code redeemed, so the
script sends each request once per page load and sends it again only if it failed.
"""

from __future__ import annotations

import secrets

import streamlit as st

from dashboard.session_endpoint import XSRF_COOKIE, endpoint_path

_SCRIPT = """
export default function (component) {
  const request = component.data;
  if (!request || !request.url) return;
  const sent = (window.annopsSessionRequests = window.annopsSessionRequests || new Set());
  if (sent.has(request.nonce)) return;
  sent.add(request.nonce);
  const prefix = "XSRF_COOKIE=";
  const xsrf = document.cookie.split("; ").find((c) => c.startsWith(prefix));
  fetch(request.url, {
    method: request.method,
    credentials: "same-origin",
    cache: "no-store",
    headers: {
      "Content-Type": "application/json",
      "X-Xsrftoken": xsrf ? xsrf.slice(prefix.length) : "",
    },
    body: request.method === "POST" ? JSON.stringify({ code: request.code }) : undefined,
  })
    .then((response) => {
      if (!response.ok) sent.delete(request.nonce);
    })
    .catch(() => sent.delete(request.nonce));
}
""".replace("XSRF_COOKIE", XSRF_COOKIE)

_session_request = st.components.v2.component("annops_session_cookie", js=_SCRIPT)


def _url() -> str:
    return endpoint_path(str(st.get_option("server.baseUrlPath") or ""))


def keep_login(handoff_code: str) -> None:
    """Have the browser trade the handoff code for the session cookie."""
    _session_request(
        data={"url": _url(), "method": "POST", "code": handoff_code, "nonce": handoff_code},
        key="session_cookie_keep",
        height=0,
    )


def forget_login() -> None:
    """Have the browser drop the session cookie (and end the session behind it)."""
    _session_request(
        data={"url": _url(), "method": "DELETE", "nonce": secrets.token_hex(8)},
        key="session_cookie_forget",
        height=0,
    )
