"""The dashboard's login: a small page where a person pastes their token (from the city's single
sign-on; in development, `python -m shared.tokens issue --role report_viewer`). The server checks
it and keeps it as an HttpOnly, SameSite=Strict session cookie, which the dashboard's fetches,
exports and EventSource then carry (scripts never read it)."""
from html import escape
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from shared.access import SESSION_COOKIE
from shared.http import read_body
from shared.tokens import DEV_ISSUER

MAX_FORM_BYTES = 16_384

PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 · 邻里数据看板</title><link rel="stylesheet" href="/dashboard/dashboard.css"></head>
<body>
<header><h1>邻里 · 社区志愿服务数据看板</h1><p>请登录 (sign in)</p></header>
<main>
  <section>
    <form id="login" method="post" action="/dashboard/login">
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
HINT = ("<p>开发环境 (development): <code>.venv/bin/python -m shared.tokens issue --role report_viewer</code> "
        "打印一个令牌 (prints a token).</p>")


def login_page(issuer: str, problem: str | None = None, next_query: str = "", status: int = 401) -> HTMLResponse:
    page = PAGE.format(next=escape(next_query, quote=True),
                       problem=f'<p id="problem" class="problem">{escape(problem)}</p>' if problem else "",
                       hint=HINT if issuer == DEV_ISSUER else "")
    response = HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})
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


def back_to(next_query: str) -> str:
    """Where the login leads: the dashboard with the query it was opened with (never elsewhere)."""
    return "/dashboard" + (next_query if next_query.startswith("?") and "\\" not in next_query else "")


def signed_in(request: Request, token: str, next_query: str) -> RedirectResponse:
    response = RedirectResponse(back_to(next_query), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response
