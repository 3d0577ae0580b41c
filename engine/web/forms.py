"""What the sign-in pages read and write: a request's body as fields, the sign-in form, and where to go next."""

from __future__ import annotations

import json
from html import escape
from urllib.parse import parse_qsl

from starlette.requests import Request

MAX_BODY = 64 * 1024  # a form or an action is a few hundred bytes


class BadBody(ValueError):
    pass


async def fields(request: Request) -> dict[str, str]:
    """A urlencoded form's or a JSON object's fields, as strings (no file uploads: no multipart)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BadBody(f"the request is over {MAX_BODY} bytes")
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        try:
            data = json.loads(body or b"{}")
        except ValueError as exc:
            raise BadBody(f"the JSON body does not parse: {exc}") from None
        if not isinstance(data, dict):
            raise BadBody("the JSON body must be an object")
        return {str(k): "" if v is None else str(v) for k, v in data.items()}
    try:
        return dict(parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=50))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadBody(f"the form does not parse: {exc}") from None


def local_path(target: str | None, default: str = "/") -> str:
    """Where to go after signing in: a path on this site only (never //host or a scheme: no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


TEXTS: dict[str, dict[str, str]] = {
    "en": {"title": "Sign in", "name": "Name", "password": "Password", "button": "Sign in",
           "expired": "The form had expired: sign in again.",
           "too_many": "Too many failed sign-ins: try again in {seconds} s.", "wrong": "Wrong name or password.",
           "disabled": "This user is disabled.", "refused": "Not allowed", "signed_in_as": "Signed in as",
           "your_pages": "Your pages"},
    "zh": {"title": "登录", "name": "用户名", "password": "密码", "button": "登录",
           "expired": "表单已过期，请重新登录。", "too_many": "登录失败次数过多，请在 {seconds} 秒后重试。",
           "wrong": "用户名或密码错误。", "disabled": "该用户已被停用。", "refused": "无权访问",
           "signed_in_as": "当前用户", "your_pages": "我的页面"},
}  # fmt: skip


def signin_page(nonce: str, next_path: str, message: str = "", name: str = "", lang: str = "en") -> str:
    t = TEXTS[lang]
    note = f'<p role="alert">{escape(message)}</p>' if message else ""
    return f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hotline: {t['title']}</title><link rel="stylesheet" href="/static/console.css"></head>
<body><main><h1>{t['title']}</h1>{note}
<form method="post" action="/signin">
<input type="hidden" name="csrf" value="{escape(nonce)}">
<input type="hidden" name="next" value="{escape(next_path)}">
<p><label for="name">{t['name']}</label> <input id="name" name="name" autocomplete="username"
 value="{escape(name)}" required></p>
<p><label for="password">{t['password']}</label> <input id="password" name="password" type="password"
 autocomplete="current-password" required></p>
<p><button type="submit">{t['button']}</button></p>
</form></main></body></html>
"""


def refusal_page(why: str, name: str, lang: str = "en") -> str:
    """A 403 for a browser: what was refused and why, in the policy's words, and a way on."""
    t = TEXTS[lang]
    return f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hotline: {t['refused']}</title><link rel="stylesheet" href="/static/console.css"></head>
<body><main><h1>{t['refused']}</h1><p role="alert">{escape(why)}</p>
<p>{t['signed_in_as']} {escape(name)}. <a href="/">{t['your_pages']}</a></p></main></body></html>
"""
