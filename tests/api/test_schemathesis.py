"""Issue 16: the OpenAPI document is the contract. Schemathesis generates requests from /openapi.json for
every operation and sends each as every role (and as nobody); no answer may be a 5xx, and every answer
must have a documented status, content type and body schema.

Bounded for CI: a few examples per operation, no deadline; each operation runs in its own rolled-back
transaction like every other test. SCHEMATHESIS_EXAMPLES raises the count for a deeper local run.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from dispensing.enums import Role
from tests.conftest import Clock, auth

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "3"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _schema_app():
    """An app only to read the schema from (no database is touched)."""
    import tempfile
    from pathlib import Path

    from api.main import create_app
    from tests.conftest import SECRET, Settings

    tmp = Path(tempfile.mkdtemp(prefix="schema-"))
    settings = Settings(database_url=f"sqlite:///{tmp}/unused.db", secret_key=SECRET.decode(), data_dir=tmp)
    return create_app(settings)


# Only the fuzzing phase, bounded by max_examples (the coverage phase sends every case it can derive:
# hundreds per operation, minutes per database).
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}})
schema = schemathesis.openapi.from_asgi("/openapi.json", _schema_app(), config=CONFIG)


@pytest.fixture
def role_headers(factory) -> dict[str, dict[str, str]]:
    """A bearer header per role, and none (the documented 401)."""
    clock = Clock()
    site = factory.site()
    users = {
        "nurse": factory.nurse,
        "doctor": factory.doctor,
        "admin": factory.admin,
        "site_staff": factory.user(Role.SITE_STAFF, site_id=site.id),
    }
    factory.order()  # something to find: a patient, a site, a signed order
    return {"anonymous": {}} | {role: auth(user, clock) for role, user in users.items()}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_answer_matches_the_documented_contract(case, client, role_headers):
    for headers in role_headers.values():
        response = client.request(**case.as_transport_kwargs(base_url="http://testserver", headers=headers))
        case.validate_response(response, checks=CHECKS, headers=headers)
