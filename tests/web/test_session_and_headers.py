"""Issue 16, case 7: security headers on every page, logout ends the session on the server, and the
API answers OPTIONS (and 405) with every method of the path."""

from dispensing.enums import Role
from tests.web._ui import Ui


def test_logout_ends_the_session_on_the_server_a_copied_cookie_stops_working(client, factory, clock):
    ui = Ui(client)
    assert ui.login(factory.nurse).status_code == 303
    copied = client.cookies.get("dispensing_ui")
    assert client.get("/ui/roster", follow_redirects=False).status_code == 200
    clock.advance(seconds=5)
    assert ui.post("/ui/logout").status_code == 303

    client.cookies.clear()
    client.cookies.set("dispensing_ui", copied, path="/ui")
    r = client.get("/ui/roster", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/login")

    # A new login in the same instant as the logout works.
    client.cookies.clear()
    assert Ui(client).login(factory.nurse).status_code == 303
    assert client.get("/ui/roster", follow_redirects=False).status_code == 200


def test_every_page_carries_the_security_headers(client, factory):
    ui = Ui(client)
    pages = [client.get("/ui/login"), client.get("/docs"), client.get("/openapi.json"), client.get("/patients")]
    ui.login(factory.user(Role.NURSE))
    pages.append(client.get("/ui/roster"))
    for r in pages:
        assert r.headers["x-content-type-options"] == "nosniff", r.url
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    ui_csp = pages[-1].headers["content-security-policy"]
    assert "script-src 'self';" in ui_csp and "unsafe-inline" not in ui_csp  # the screens have no inline script
    assert "<script>" not in pages[0].text and " on" + "click=" not in pages[-1].text


def test_options_names_every_method_of_the_path_and_405_does_too(client, factory):
    patient = factory.patient()
    r = client.options(f"/patients/{patient.id}")
    assert r.status_code == 204
    assert {"GET", "PATCH", "OPTIONS"} <= set(r.headers["allow"].split(", "))
    r = client.delete(f"/patients/{patient.id}")
    assert r.status_code == 405 and "PATCH" in r.headers["allow"] and r.json()["code"] == "request.method_not_allowed"
    assert client.options("/no/such/path").status_code == 404
