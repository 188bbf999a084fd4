"""Issue 16, cases 2, 3 and 6: no input gives a 5xx. Impossible ids are 404, dates outside 1900-2100,
NUL bytes, overlong text and non-booleans are 422, policy values have clinical ceilings; an
unexpected error is a JSON 500 that leaves the connection usable; a lost database is a JSON 503."""

from datetime import UTC, datetime

import pytest
from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from dispensing import security
from tests.api._helpers import Api, day, expect
from tests.api.test_prescriptions import order_body
from tests.conftest import SECRET

HUGE = "9223372036854775808"


@pytest.fixture
def http(client, clock, factory) -> Api:
    return Api(client, clock, factory)  # 2**63: one past BIGINT


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", f"/patients/{HUGE}"),
        ("POST", f"/slots/{HUGE}/no-show"),
        ("GET", f"/patients/{HUGE}/sanctions"),
        ("POST", f"/sanctions/{HUGE}/lift"),
        ("GET", f"/prescriptions/{HUGE}"),
        ("GET", f"/patients/{HUGE}{HUGE}/urine-tests"),
        ("GET", f"/patients/-{HUGE}"),
    ],
)
def test_an_id_beyond_64_bits_is_not_found(http, factory, method, path):
    body = expect(http.call(method, path, factory.doctor, json={}), 404)
    assert body["code"] == "record.not_found"


def test_huge_numbers_in_query_and_body_are_422(http, factory):
    r = expect(http.get("/audit", factory.doctor, params={"patient_id": HUGE}), 422)
    assert r["code"] == "request.invalid" and r["params"]["errors"][0]["loc"] == ["query", "patient_id"]
    site = factory.site()
    r = expect(http.post("/prescriptions", factory.doctor, json=order_body(int(HUGE), site.id)), 422)
    assert r["params"]["errors"][0]["loc"] == ["body", "patient_id"]


def test_a_token_naming_a_huge_user_id_is_just_not_logged_in(client, clock):
    payload_token = security.create_access_token(SECRET, 10**30, clock(), 60)
    r = client.get("/auth/me", headers={"Authorization": f"Bearer {payload_token}"})
    assert r.status_code == 401 and r.json()["code"] == "auth.not_authenticated"


@pytest.mark.parametrize(
    "path, params",
    [
        ("/sites/{site}/roster", {"date": "9999-12-31"}),
        ("/sites/{site}/roster", {"date": "1899-12-31"}),
        ("/reports/sib", {"month": "0000-01"}),
        ("/reports/sib", {"month": "2026-13"}),
    ],
)
def test_dates_outside_1900_2100_in_queries_are_422(http, factory, path, params):
    site = factory.site()
    r = expect(http.get(path.format(site=site.id), factory.doctor, params=params), 422)
    assert r["code"] in ("request.invalid", "report.month_out_of_range")


def test_the_edges_of_the_date_range_are_accepted(http, factory):
    site = factory.site()
    expect(http.get(f"/sites/{site.id}/roster", factory.nurse, params={"date": "2100-12-31"}), 200)
    expect(http.get(f"/sites/{site.id}/roster", factory.nurse, params={"date": "1900-01-01"}), 200)
    expect(http.get("/reports/sib", factory.doctor, params={"month": "1900-01"}), 200)


def test_nonsense_in_bodies_is_422_naming_the_field_and_changes_nothing(http, factory):
    site, patient = factory.site(), factory.patient()
    cases = [
        ("/prescriptions", order_body(patient.id, site.id, indication="x" * 1_000_000), "indication"),
        ("/prescriptions", order_body(patient.id, site.id, start_date="9999-12-31"), "start_date"),
        ("/prescriptions", order_body(patient.id, site.id, supervised="yes"), "supervised"),
        ("/prescriptions", order_body(patient.id, site.id, supervised=1), "supervised"),
        ("/prescriptions", order_body(patient.id, site.id, indication="opioid\u0000"), "indication"),
        ("/patients", {"cpr": factory.cpr(), "name": "x\u0000"}, "name"),
        ("/patients", {"cpr": factory.cpr(), "name": "Jens", "first_contact_on": "0001-01-01"}, "first_contact_on"),
        ("/patients", {"cpr": factory.cpr(), "name": "Jens", "pregnant": "false"}, "pregnant"),
    ]
    before = len(http.audit())
    for path, body, field in cases:
        r = expect(http.post(path, factory.doctor, json=body), 422)
        assert r["code"] == "request.invalid" and field in r["params"]["fields"], (field, r)
    assert len(http.audit()) == before + 1  # only the audit read itself


def test_a_sanction_review_in_9999_is_422(http, factory):
    order = factory.order()
    body = {
        "step": "daily_pickup",
        "starts_on": day(0).isoformat(),
        "review_on": "9999-01-01",
        "reason": "Videresalg",
    }
    r = expect(http.post(f"/patients/{order.patient_id}/sanctions", factory.doctor, json=body), 422)
    assert "review_on" in r["params"]["fields"]


def test_a_nul_byte_in_the_query_string_is_422(http, factory):
    r = expect(http.get("/patients", factory.nurse, params={"q": "Jens\u0000"}), 422)
    assert r["code"] == "request.invalid"


@pytest.mark.parametrize(
    "change",
    [
        {"methadone_first_dose_max_mg": "1e9"},
        {"methadone_first_dose_max_mg": 1000000000},
        {"opioid_breath_threshold": "50"},
        {"take_home_max_days": 365},
        {"opioid_breath_required": "yes"},
    ],
)
def test_policy_values_have_clinical_ceilings(http, factory, change):
    r = expect(http.put("/policy", factory.doctor, json=change), 422)
    assert r["code"] == "policy.invalid_value" and r["params"]["field"] == next(iter(change))
    assert http.get("/policy", factory.doctor).json()["methadone_first_dose_max_mg"] == "30"


def test_a_policy_stored_before_the_ceilings_falls_back_to_defaults(http, factory, session):
    from dispensing.models import ClinicPolicy

    session.merge(
        ClinicPolicy(
            id=1,
            values={"methadone_first_dose_max_mg": "1000000000", "missed_days_block": 4},
            updated_at=datetime.now(UTC),
            updated_by_id=factory.doctor.id,
        )
    )
    session.commit()
    policy = expect(http.get("/policy", factory.doctor), 200)
    assert policy["methadone_first_dose_max_mg"] == "30" and policy["missed_days_block"] == 4


# --- the safety nets ------------------------------------------------------------------------------------


@pytest.fixture
def failing_routes(app):
    """Routes that fail the ways the database and the code can fail (added to this test's app only)."""
    router = APIRouter()

    cpr = "".join(["010170", "1234"])  # built at run time: the traceback's source lines must not show it

    @router.get("/test-failures/bug")
    def bug():
        raise RuntimeError(f"a bug whose message names {cpr}")

    @router.get("/test-failures/gone")
    def gone():
        raise OperationalError("SELECT 1", {"cpr": cpr}, Exception(f"server closed the connection {cpr}"))

    app.include_router(router)
    return app


def test_an_unexpected_error_is_a_json_500_without_its_message_and_the_client_goes_on(
    client, failing_routes, factory, caplog
):
    with caplog.at_level("ERROR"):
        r = client.get("/test-failures/bug")
    assert r.status_code == 500 and r.json()["code"] == "server.error"
    assert "0101701234" not in r.text and "0101701234" not in caplog.text
    assert "RuntimeError" in caplog.text  # the operator still learns what and where
    assert client.get("/auth/me", headers=_bearer(factory)).status_code == 200


def test_a_lost_database_is_a_json_503_with_retry_after(client, failing_routes, caplog):
    with caplog.at_level("WARNING"):
        r = client.get("/test-failures/gone")
    assert r.status_code == 503 and r.json()["code"] == "service.database_unavailable"
    assert int(r.headers["Retry-After"]) > 0
    assert "0101701234" not in caplog.text


def _bearer(factory) -> dict:
    from tests.conftest import auth

    return auth(factory.nurse)


def test_a_database_error_never_logs_its_parameters(engine, caplog):
    """SQLAlchemy prints a failed statement's values in the error text unless hide_parameters is set."""
    with caplog.at_level("DEBUG"), engine.connect() as conn, pytest.raises(Exception) as failure:
        conn.execute(text("SELECT * FROM no_such_table WHERE cpr = :cpr"), {"cpr": "0101701234"})
    assert "0101701234" not in str(failure.value) and "0101701234" not in caplog.text
    assert "hidden" in str(failure.value)  # "[SQL parameters hidden due to hide_parameters=True]"


def test_fastapi_telemetry_exports_no_exception_text_and_no_query_strings(app):
    config = getattr(app, "_telemetry", None)
    if config is None:
        pytest.skip("this FastAPI has no built-in telemetry")
    assert config["logs"] is False and config["tracing"] is False and config["auto_configure"] is False


def test_a_connection_killed_mid_request_is_503_and_the_next_request_works(committed_engine, settings, clock, caplog):
    """PostgreSQL ends the request's connection (as a restart or a network cut does): a JSON 503 with
    Retry-After, nothing logged but the error's type, and the pool's pre-ping gives the next request a
    live connection."""
    from fastapi.testclient import TestClient

    from api.deps import SessionDep
    from api.main import create_app

    app = create_app(settings, engine=committed_engine, clock=clock)
    router = APIRouter()

    @router.get("/test-failures/kill")
    def kill(session: SessionDep):
        session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        session.execute(text("SELECT :cpr"), {"cpr": "".join(["010170", "1234"])})

    @router.get("/test-failures/alive")
    def alive(session: SessionDep):
        return {"one": session.execute(text("SELECT 1")).scalar_one()}

    app.include_router(router)
    with TestClient(app) as c, caplog.at_level("DEBUG"):
        r = c.get("/test-failures/kill")
        assert r.status_code == 503 and r.json()["code"] == "service.database_unavailable"
        assert int(r.headers["Retry-After"]) > 0
        assert c.get("/test-failures/alive").json() == {"one": 1}
    assert "0101701234" not in caplog.text
