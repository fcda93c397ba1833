"""The staff login of reporting's pages (the dashboard, the staff console): a small page where a
person pastes their token (from the city's single sign-on; in development, `python -m shared.tokens
issue --role report_viewer`). The server checks it and keeps it as an HttpOnly, SameSite=Strict
session cookie, which the page's fetches, exports and EventSource then carry (scripts never read it).
Each page names its own `LoginPage`; the functions default to the dashboard's."""
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.access import SESSION_COOKIE, access_of
from shared.identity import Caller, Refused
from shared.http import read_body
from shared.tokens import DEV_ISSUER

MAX_FORM_BYTES = 16_384


@dataclass(frozen=True)
class LoginPage:
    """What a page's login says and where it leads."""

    path: str  # the page: the form posts to `path`/login and leads back to `path`
    title: str
    heading: str
    stylesheet: str
    role: str  # the role the development hint issues a token for


DASHBOARD = LoginPage("/dashboard", "登录 · 邻里数据看板", "邻里 · 社区志愿服务数据看板",
                      "/dashboard/dashboard.css", "report_viewer")
CONSOLE = LoginPage("/console", "登录 · 邻里社区工作台", "邻里 · 社区工作台",
                    "/console/console.css", "community_staff --area <社区代码>")

PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="{stylesheet}"></head>
<body>
<header><h1>{heading}</h1><p>请登录 (sign in)</p></header>
<main>
  <section>
    <form id="login" method="post" action="{path}/login">
      <label for="token">令牌 (token)</label><br>
      <textarea id="token" name="token" rows="6" cols="80" required autocomplete="off"></textarea><br>
      <input type="hidden" name="next" value="{next}">
      <button type="submit">登录</button>
    </form>
    {problem}{hint}
  </section>
</main>
</body>
</html>
"""
HINT = ("<p>开发环境 (development): <code>.venv/bin/python -m shared.tokens issue --role {role}</code> "
        "打印一个令牌 (prints a token).</p>")


def login_page(issuer: str, problem: str | None = None, next_query: str = "", status: int = 401,
               page: LoginPage = DASHBOARD) -> HTMLResponse:
    html = PAGE.format(title=escape(page.title), stylesheet=escape(page.stylesheet, quote=True),
                       heading=escape(page.heading), path=escape(page.path, quote=True),
                       next=escape(next_query, quote=True),
                       problem=f'<p id="problem" class="problem">{escape(problem)}</p>' if problem else "",
                       hint=HINT.format(role=escape(page.role)) if issuer == DEV_ISSUER else "")
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    if problem:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def login_form(request: Request) -> dict[str, str]:
    """The posted form (token, next); anything unreadable is an empty form."""
    body = await read_body(request, MAX_FORM_BYTES)
    if len(body) > MAX_FORM_BYTES:
        return {}
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=4))
    except ValueError:
        return {}


def back_to(next_query: str, page: LoginPage = DASHBOARD) -> str:
    """Where the login leads: the page with the query it was opened with (never elsewhere)."""
    return page.path + (next_query if next_query.startswith("?") and "\\" not in next_query else "")


def signed_in(request: Request, token: str, next_query: str, page: LoginPage = DASHBOARD) -> RedirectResponse:
    response = RedirectResponse(back_to(next_query, page), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


def signed_out(page: LoginPage = DASHBOARD) -> RedirectResponse:
    response = RedirectResponse(page.path, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def page_or_login(request: Request, issuer: str, allowed: Callable[[Caller], Caller], html: Path,
                  page: LoginPage = DASHBOARD) -> HTMLResponse:
    """The page for a caller with a session `allowed` takes; else its login page (401), with why
    when a session or token was sent."""
    query = f"?{request.url.query}" if request.url.query else ""
    try:
        allowed(access_of(request).caller(request))
    except Refused as refused:
        signed = request.cookies.get(SESSION_COOKIE) or request.headers.get("authorization")
        return login_page(issuer, refused.reason if signed else None, query, page=page)
    return HTMLResponse(html.read_text(encoding="utf-8"), headers={"Cache-Control": "no-store"})


async def log_in(request: Request, issuer: str, allowed: Callable[[Caller], Caller],
                 page: LoginPage = DASHBOARD) -> Response:
    """Check the pasted token: one `allowed` takes becomes the session cookie, any other shows why."""
    form = await login_form(request)
    token, next_query = form.get("token", "").strip(), form.get("next", "")
    try:
        if not token:
            raise Refused(401, "paste a token")
        allowed(access_of(request).token_caller(token))
    except Refused as refused:
        return login_page(issuer, refused.reason, next_query, page=page)
    return signed_in(request, token, next_query, page)
