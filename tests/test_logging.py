"""No CPR number reaches the logs: not from a search URL, not from a failed login."""

import logging

from api.main import DropQueryStrings


def test_access_log_lines_lose_their_query_string():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/patients?q=0101701234", "1.1", 200),
        None,
    )
    DropQueryStrings().filter(record)
    line = record.getMessage()
    assert "0101701234" not in line and "/patients?…" in line


def test_failed_login_logs_a_known_username_and_nothing_else(client, factory, caplog):
    with caplog.at_level(logging.WARNING, logger="dispensing.auth"):
        r = client.post("/auth/token", data={"username": factory.nurse.username, "password": "0101701234-secret"})
        typo = client.post("/auth/token", data={"username": "my-secret-pw-typed-here", "password": "x"})
    assert r.status_code == typo.status_code == 401
    assert factory.nurse.username in caplog.text and "(unknown user)" in caplog.text
    assert "0101701234" not in caplog.text and "my-secret-pw" not in caplog.text
