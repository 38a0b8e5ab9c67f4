"""A minimal browser for the web benchmark: one keep-alive HTTP connection and one cookie jar per
client, signing in through the real form (CSRF token from the page), and reading a task page's form
back as the fields a browser would send. Standard library only."""

from __future__ import annotations

import http.client
import re
import time
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class Reply:
    status: int
    location: str
    text: str
    ms: float


class Browser:
    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname or "127.0.0.1", parts.port or 80, timeout
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> Reply:
        return self._send("GET", path, None)

    def post(self, path: str, fields: list[tuple[str, str]] | dict[str, str]) -> Reply:
        return self._send("POST", path, urlencode(fields, doseq=True))

    def sign_in(self, username: str, password: str) -> None:
        page = self.get("/sign-in")
        token = CSRF.search(page.text)
        assert token, "no CSRF token on the sign-in page"
        reply = self.post(
            "/sign-in", {"csrf_token": token.group(1), "username": username, "password": password}
        )
        if reply.status != 302:
            raise RuntimeError(f"signing in as {username} answered {reply.status}")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _send(self, method: str, path: str, body: str | None) -> Reply:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        for attempt in (1, 2):
            connection = self.connection or http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
            self.connection = connection
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed a kept-alive connection: open another, once
                if attempt == 2 or method != "GET":
                    raise
        ms = (time.perf_counter() - started) * 1000
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        if response.will_close:
            self.close()
        return Reply(
            response.status, response.headers.get("Location", ""), data.decode("utf-8", "replace"), ms
        )


class _FormReader(HTMLParser):
    """The fields of the first form with class ``form_class``, as a browser would submit them (buttons
    excepted): text inputs and hidden fields, checked radios and checkboxes, selected options, textareas."""

    def __init__(self, form_class: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_class = form_class
        self.inside = False
        self.done = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.done and self.form_class in a.get("class", "").split():
            self.inside = True
        if not self.inside:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside, self.done = False, True
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, unescape("".join(self._text)).removeprefix("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)


def form_fields(html: str, form_class: str = "educase-task-form") -> list[tuple[str, str]]:
    reader = _FormReader(form_class)
    reader.feed(html)
    return reader.fields
