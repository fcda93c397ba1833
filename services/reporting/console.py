"""The staff console (社区工作台, /console): a page for community and street staff, served by reporting
beside its dashboard, behind the same login (login.py), and a relay through which the page calls
the services' APIs.

The relay: /console/api/{intake|matching|reporting}/{path} is that service's /api/v1/{path}, called
with the method, query and JSON body the page sent and the session's token as `Authorization:
Bearer` (the page's scripts never see the token: it is an HttpOnly cookie). The service answers as it
would the person (its own area and role checks); the relay passes its status and body on. A service
that cannot be reached in time is a 503 that says which; only these three services, and only paths
under their /api/v1, are relayed."""
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from services.reporting.context import Reporting
from services.reporting.login import CONSOLE, log_in, page_or_login, signed_out
from shared.access import SESSION_COOKIE, allow, communities_of
from shared.http import read_body
from shared.identity import Caller, Refused, Role, bearer_token
from shared.service import deps_of

log = logging.getLogger(__name__)
router = APIRouter(tags=["console"], include_in_schema=False)
ASSETS = Path(__file__).parent / "console"
# Staff act; ops may look (the services refuse them every action).
CONSOLE_USERS = allow(Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.OPS)
RELAYED = ("intake", "matching", "reporting")
# Reads longer than reporting's stream stays quiet (api.STREAM_SECONDS): a live stream is not cut.
RELAY_TIMEOUT = httpx.Timeout(10.0, read=25.0)
MAX_BODY_BYTES = 65_536
SEGMENT = re.compile(r"^[A-Za-z0-9_\-.~:@]+$")
# What of the service's answer the page gets: its body's kind and how to cache it, nothing else
# (no cookies, no hop-by-hop headers).
PASSED_HEADERS = ("content-type", "content-disposition", "cache-control")


class NotRelayed(Exception):
    """A path the relay does not call (404, with the reason)."""


def upstream_url(bases: dict[str, str], service: str, path: str, query: str) -> str:
    """The service's URL for the page's `service`/`path`?`query`: its base + /api/v1/ + path.
    Only the relayed services; each path segment plain (no `..`, no empty segment, no escapes)."""
    if service not in bases:
        raise NotRelayed(f"the console relays only {', '.join(bases)}, not {service!r}")
    segments = path.split("/")
    if not path or any(s in ("", ".", "..") or not SEGMENT.match(s) for s in segments):
        raise NotRelayed(f"not a path the console relays: {path!r}")
    return f"{bases[service]}/api/v1/{path}" + (f"?{query}" if query else "")


def relayed_headers(token: str, content_type: str | None, language: str | None) -> dict[str, str]:
    """The headers the service gets: the person's token, and the body's kind and the page's
    language when there are."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    if content_type:
        headers["Content-Type"] = content_type
    if language:
        headers["Accept-Language"] = language
    return headers


def unreachable(service: str, error: Exception) -> str:
    """Why the service did not answer, for the 503 (its URL stays in the log)."""
    if isinstance(error, httpx.TimeoutException):
        return f"{service} did not answer in time; try again"
    return f"{service} cannot be reached ({type(error).__name__}); try again"


def session_token(request: Request) -> str:
    """The token the page's calls carry: the session cookie (or a bearer header)."""
    authorization = request.headers.get("authorization")
    token = bearer_token(authorization) if authorization else request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Refused(401, "sign in at /console")
    return token


def seen_by(who: Caller, reporting: Reporting) -> dict:
    """What the page shows of who is signed in: role, area and the communities and streets they
    see (never the token)."""
    areas = reporting.areas
    seen = communities_of(who, areas)
    communities = sorted(seen if seen is not None else areas.street_of_community)
    streets = sorted({s for s in (areas.street(c) for c in communities) if s}
                     if who.role != Role.COMMUNITY_STAFF else ())
    return {"role": who.role.value, "area": who.area, "communities": communities,
            "streets": [{"code": s, "name": areas.street_names.get(s, s)} for s in streets],
            "may_act": who.role in (Role.COMMUNITY_STAFF, Role.STREET_STAFF)}


@router.get("/console", response_class=HTMLResponse)
async def console(request: Request, reporting: Reporting = Depends(deps_of)) -> HTMLResponse:
    """The staff console (社区工作台). Without a valid staff session, the login page (401)."""
    return page_or_login(request, reporting.settings.linli_token_issuer, CONSOLE_USERS, ASSETS / "index.html",
                         CONSOLE)


@router.post("/console/login")
async def console_login(request: Request, reporting: Reporting = Depends(deps_of)) -> Response:
    """Check the pasted token; a staff member's becomes the session cookie, any other shows why."""
    return await log_in(request, reporting.settings.linli_token_issuer, CONSOLE_USERS, CONSOLE)


@router.post("/console/logout")
async def console_logout() -> Response:
    return signed_out(CONSOLE)


@router.get("/console/me")
async def me(who: Caller = Depends(CONSOLE_USERS), reporting: Reporting = Depends(deps_of)) -> dict:
    """Who is signed in, as the page shows it."""
    return seen_by(who, reporting)


@router.get("/console/{asset}")
async def console_asset(asset: Literal["console.js", "console.css"]) -> Response:
    media_type = "text/javascript" if asset.endswith(".js") else "text/css"
    return Response((ASSETS / asset).read_bytes(), media_type=f"{media_type}; charset=utf-8")


@router.api_route("/console/api/{service}/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                  dependencies=[Depends(CONSOLE_USERS)])
async def relay(request: Request, service: str, path: str, reporting: Reporting = Depends(deps_of)) -> Response:
    """The service's answer to the page's call, made with the session's token."""
    settings = reporting.settings
    try:
        url = upstream_url({name: settings.url_of(name) for name in RELAYED}, service, path, request.url.query)
    except NotRelayed as error:
        return JSONResponse({"error": str(error)}, status_code=404)
    body = await read_body(request, MAX_BODY_BYTES)
    if len(body) > MAX_BODY_BYTES:
        return JSONResponse({"error": f"the body is longer than {MAX_BODY_BYTES} bytes"}, status_code=413)
    headers = relayed_headers(session_token(request), request.headers.get("content-type") if body else None,
                              request.headers.get("accept-language"))
    client, streaming = httpx.AsyncClient(timeout=RELAY_TIMEOUT), False
    try:
        upstream = await client.send(client.build_request(request.method, url, headers=headers, content=body),
                                     stream=True)
        if upstream.headers.get("content-type", "").startswith("text/event-stream"):
            streaming = True  # the stream closes the client when it ends
            return StreamingResponse(_streamed(upstream, client), status_code=upstream.status_code,
                                     headers=_passed(upstream))
        content = await upstream.aread()
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        # The service's base URL only: a query may hold a phone number being searched for.
        log.warning("console relay: %s at %s did not answer: %s", service, settings.url_of(service),
                    type(error).__name__)
        return JSONResponse({"error": unreachable(service, error)}, status_code=503)
    finally:
        if not streaming:
            await client.aclose()
    return Response(content, status_code=upstream.status_code, headers=_passed(upstream))


def _passed(upstream: httpx.Response) -> dict[str, str]:
    return {name: upstream.headers[name] for name in PASSED_HEADERS if name in upstream.headers}


async def _streamed(upstream: httpx.Response, client: httpx.AsyncClient) -> AsyncIterator[bytes]:
    """The service's stream as it comes; it ends when either side does (a quiet or broken
    upstream ends it too: the page's EventSource reconnects)."""
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    except httpx.HTTPError:
        return
    finally:
        await upstream.aclose()
        await client.aclose()
