"""Settings, the console script and the demo clinic, as an operator meets them."""

import os
import stat
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from sqlalchemy import select

from dispensing.cli import main
from dispensing.config import Settings, get_settings
from dispensing.db import make_engine, make_session_factory, transaction
from dispensing.demo import load_demo
from dispensing.models import Prescription, User
from dispensing.security import verify_password
from dispensing.services.context import Ctx
from dispensing.services.roster import build_roster
from tests.conftest import TZ


@pytest.mark.parametrize("secret", ["changeme", "secret", "short-but-real"])
def test_a_placeholder_or_short_secret_is_refused(secret):
    with pytest.raises(ValidationError, match="DISPENSING_SECRET_KEY"):
        Settings(secret_key=secret)


def test_without_a_secret_one_is_generated_once_and_kept_private(tmp_path):
    settings = Settings(data_dir=tmp_path)
    first = settings.resolved_secret()
    assert len(first) >= 32 and Settings(data_dir=tmp_path).resolved_secret() == first
    mode = stat.S_IMODE(os.stat(tmp_path / "dispensing-secret.key").st_mode)
    assert mode == 0o600


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("DISPENSING_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("DISPENSING_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_users_create_reads_the_password_from_stdin_and_refuses_bad_input(cli_env):
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    r = runner.invoke(
        main,
        [
            "users",
            "create",
            "--username",
            "mette",
            "--role",
            "doctor",
            "--can-prescribe-addictive",
            "--full-name",
            "Mette Sørensen",
        ],
        input="long-password-1\n",
    )
    assert r.exit_code == 0, r.output
    engine = make_engine(f"sqlite:///{cli_env}/cli.db")
    with transaction(make_session_factory(engine)) as s:
        user = s.execute(select(User).where(User.username == "mette")).scalar_one()
        assert user.can_prescribe_addictive and verify_password(user.password_hash, "long-password-1")
    again = runner.invoke(main, ["users", "create", "--username", "mette", "--role", "nurse"], input="another-pw-2\n")
    assert again.exit_code != 0 and "taken" in again.output
    staff = runner.invoke(main, ["users", "create", "--username", "apo", "--role", "site_staff"], input="pw-long-3\n")
    assert staff.exit_code != 0 and "site" in staff.output
    nurse_right = runner.invoke(
        main,
        ["users", "create", "--username", "n", "--role", "nurse", "--can-prescribe-addictive"],
        input="pw-long-4\n",
    )
    assert nurse_right.exit_code != 0 and "Only a doctor" in nurse_right.output
    bad_role = runner.invoke(main, ["users", "create", "--username", "x", "--role", "janitor"], input="pw-long-5\n")
    assert bad_role.exit_code != 0


def test_demo_clinic_loads_once_with_signed_orders_and_a_roster(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/demo.db")
    from dispensing.migrate import upgrade_to_head

    upgrade_to_head(engine)
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/demo.db")
    now = datetime(2026, 3, 4, 9, 0, tzinfo=TZ).astimezone(UTC)  # a Wednesday
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        logins = load_demo(s, settings, now=now)
    assert {role for _, _, role in logins} == {"admin", "doctor", "nurse", "site_staff"}
    with transaction(factory) as s:
        assert load_demo(s, settings, now=now) == []  # never twice
        orders = s.execute(select(Prescription)).scalars().all()
        assert {o.drug.value for o in orders} >= {"methadone", "buprenorphine", "disulfiram", "acamprosate"}
        assert all(o.signature for o in orders)
        nurse = s.execute(select(User).where(User.username == "sygeplejerske")).scalar_one()
        ctx = Ctx(session=s, actor=nurse, now=now, tz=TZ, secret=settings.resolved_secret())
        entries = build_roster(ctx, nurse.site_id, ctx.today)
        assert len(entries) >= 5
        assert any(e.blocked_reason for e in entries)  # the patient who stopped coming
    engine.dispose()
