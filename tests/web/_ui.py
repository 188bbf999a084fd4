"""A browser-like helper for the web UI tests: logs in through the form and sends the CSRF token."""

import re

import pytest

from tests.conftest import PASSWORD

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Ui:
    def __init__(self, client) -> None:
        self.client = client
        self.csrf: str | None = None

    def page(self, path: str, **kw):
        r = self.client.get(path, **kw)
        m = CSRF_RE.search(r.text)
        if m:
            self.csrf = m.group(1)
        return r

    def login(self, user, password: str = PASSWORD):
        self.page("/ui/login")
        r = self.client.post(
            "/ui/login",
            data={"username": user.username, "password": password, "csrf_token": self.csrf},
            follow_redirects=False,
        )
        if r.status_code == 303:
            self.page("/ui/")  # the new login has a new CSRF token
        return r

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kw):
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf_token", self.csrf)
        kw.setdefault("follow_redirects", False)
        return self.client.post(path, data=body, **kw)


@pytest.fixture
def ui(client) -> Ui:
    return Ui(client)
