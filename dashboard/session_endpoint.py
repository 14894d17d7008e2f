"""The one HTTP endpoint annops adds to Streamlit's server: it sets and clears the login cookie.

POST {"code": ...} trades a tab's one-time handoff code for the session cookie; DELETE
clears the cookie and ends the session behind it. The cookie is HttpOnly (page scripts
cannot read it), SameSite=Strict, and Secure when the request came over https.

Both methods demand Streamlit's XSRF token in the X-Xsrftoken header, equal to its
``_streamlit_xsrf`` cookie (double submit): a page on another site can neither read that
cookie nor send that header without a CORS preflight, which this endpoint never grants.
So another site cannot plant its own login in a user's browser.
"""

from __future__ import annotations

import hmac
import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from db.engine import transaction
from ops.database import session_factory
from ops.sessions import COOKIE_NAME, IssuedCookie, claim_handoff, forget_cookie

SESSION_ENDPOINT = "api/session"
XSRF_COOKIE = "_streamlit_xsrf"
MAX_BODY_BYTES = 1024


def endpoint_path(base_url_path: str = "") -> str:
    """The endpoint's path under ``base_url_path`` (Streamlit's server.baseUrlPath)."""
    base = base_url_path.strip("/")
    return f"/{base}/{SESSION_ENDPOINT}" if base else f"/{SESSION_ENDPOINT}"


def routes(base_url_path: str = "") -> list[Route]:
    """The endpoint's route, for st.App."""
    return [Route(endpoint_path(base_url_path), session_cookie, methods=["POST", "DELETE"])]


async def session_cookie(request: Request) -> Response:
    """Set (POST) or clear (DELETE) the session cookie."""
    if not _xsrf_token_matches(request):
        return PlainTextResponse("XSRF token missing or invalid.", status_code=403)
    if request.method == "DELETE":
        token = request.cookies.get(COOKIE_NAME)
        if token:
            await run_in_threadpool(_forget, token)
        response: Response = Response(status_code=204)
        response.delete_cookie(
            COOKIE_NAME,
            path="/",
            httponly=True,
            samesite="strict",
            secure=_over_https(request),
        )
        return _no_store(response)
    code = _handoff_code(await request.body())
    if code is None:
        return PlainTextResponse('Expected a JSON body {"code": "..."}.', status_code=400)
    issued = await run_in_threadpool(_claim, code)
    if issued is None:
        return PlainTextResponse(
            "This login cannot be kept any more (used, expired or ended); log in again.",
            status_code=403,
        )
    response = Response(status_code=204)
    response.set_cookie(
        COOKIE_NAME,
        issued.token,
        max_age=issued.max_age_seconds,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_over_https(request),
    )
    return _no_store(response)


def _over_https(request: Request) -> bool:
    # Secure only where the browser reached annops over https; over plain http a Secure
    # cookie would never come back.
    return request.url.scheme == "https"


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _xsrf_token_matches(request: Request) -> bool:
    cookie = request.cookies.get(XSRF_COOKIE, "")
    header = request.headers.get("X-Xsrftoken", "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), header.encode())


def _handoff_code(body: bytes) -> str | None:
    if len(body) > MAX_BODY_BYTES:
        return None
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    code = payload.get("code") if isinstance(payload, dict) else None
    return code if isinstance(code, str) and 0 < len(code) <= 200 else None


def _claim(code: str) -> IssuedCookie | None:
    with transaction(session_factory()) as session:
        return claim_handoff(session, code)


def _forget(token: str) -> None:
    with transaction(session_factory()) as session:
        forget_cookie(session, token)
