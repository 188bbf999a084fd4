"""Shared helpers for the HTTP API tests: a thin client that logs in as a user and checks error bodies.

Every 4xx/5xx answer is checked here for the contract's error shape (API.md: every error body is
`{"detail", "code", "params"}`: a human-readable message, a stable dotted code with a text in both
catalogues, and the values), so each test also tests that.
"""

import re
from datetime import date, timedelta
from typing import Any

import pytest

from dispensing import messages
from dispensing.enums import Role
from tests.conftest import PASSWORD, auth

CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
MONDAY = date(2026, 3, 2)  # the clock fixture's first day


def day(offset: int) -> date:
    """A date relative to the clock fixture's Monday 2026-03-02."""
    return MONDAY + timedelta(days=offset)


class Api:
    def __init__(self, client, clock, factory) -> None:
        self.client = client
        self.clock = clock
        self.factory = factory

    def call(
        self,
        method: str,
        path: str,
        user=None,
        *,
        json: Any = None,
        params: dict | None = None,
        data: dict | None = None,
        content: bytes | None = None,
        headers: dict | None = None,
    ):
        h = dict(headers or {})
        if user is not None:
            # a fresh token at the clinic's current time (the clock may have moved on since the last call)
            h.update(auth(user, self.clock))
        r = self.client.request(method, path, json=json, params=params, data=data, content=content, headers=h)
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                pytest.fail(f"{method} {path} -> {r.status_code} without a JSON body: {r.text[:300]}")
            assert isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"].strip(), (
                f"{method} {path} -> {r.status_code}: the error body has no readable string 'detail': {body}"
            )
            code = body.get("code")
            assert isinstance(code, str) and CODE.fullmatch(code) and isinstance(body.get("params"), dict), (
                f"{method} {path} -> {r.status_code}: the error body has no dotted 'code' and 'params': {body}"
            )
            assert all(messages.has_text(code, lang) for lang in messages.LANGUAGES), f"{code} lacks a text"
        return r

    def get(self, path, user=None, **kw):
        return self.call("GET", path, user, **kw)

    def post(self, path, user=None, json=None, **kw):
        return self.call("POST", path, user, json=json, **kw)

    def put(self, path, user=None, json=None, **kw):
        return self.call("PUT", path, user, json=json, **kw)

    # --- shortcuts -----------------------------------------------------------------------------

    def roster(self, site_id: int, on: date, user=None) -> list[dict]:
        r = self.get(f"/sites/{site_id}/roster", user or self.factory.nurse, params={"date": on.isoformat()})
        assert r.status_code == 200, r.text
        return r.json()

    def slot(self, site_id: int, on: date, patient_id: int, drug: str = "methadone") -> dict:
        """The roster line of one patient's drug on a day (fails when it is not on the roster)."""
        items = [i for i in self.roster(site_id, on) if i["patient"]["id"] == patient_id and i["drug"] == drug]
        assert len(items) == 1, f"expected one {drug} line for patient {patient_id} on {on}, got {items}"
        return items[0]

    def dispense(self, slot_id: int, user=None, **body):
        body.setdefault("supervised", True)
        return self.post(f"/slots/{slot_id}/dispense", user or self.factory.nurse, json=body)

    def audit(self, user=None, **params) -> list[dict]:
        r = self.get("/audit", user or self.factory.doctor, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def site_staff(self, site_id: int | None = None):
        site_id = site_id or self.factory.site().id
        return self.factory.user(Role.SITE_STAFF, site_id=site_id)


@pytest.fixture
def api(client, clock, factory) -> Api:
    return Api(client, clock, factory)


def expect(r, status: int) -> Any:
    """Assert the status (showing the body when it differs) and return the JSON body."""
    assert r.status_code == status, (
        f"{r.request.method} {r.request.url.path}: expected {status}, got {r.status_code}: {r.text}"
    )
    return r.json()


__all__ = ["Api", "MONDAY", "PASSWORD", "api", "day", "expect"]
