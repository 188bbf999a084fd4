"""Migrations upgrade a populated database without losing or breaking rows."""

import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from sqlalchemy import text

from dispensing.db import make_engine
from dispensing.migrate import alembic_config, upgrade_to_head

CORE = "c095b290b5b9"


def test_upgrading_a_populated_sqlite_database_keeps_rows_and_references(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, CORE)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, full_name, role, password_hash, can_prescribe_addictive, active, "
                "created_at) VALUES (1, 'u', 'U', 'nurse', 'x', 0, 1, '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO sites (id, name, kind, address, created_at) "
                "VALUES (1, 's', 'clinic', '', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO patients (id, cpr, name, birth_date, sex, children_at_home, pregnant, "
                "created_at) VALUES (1, '0101701234', 'P', '1970-01-01', 'female', 0, 0, '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO prescriptions (id, patient_id, drug, product, dose_mg, weekdays, pickup_weekdays,"
                " supervised, site_id, start_date, course_start, indication, version, status, created_by_id,"
                " created_at) VALUES "
                "(1, 1, 'methadone', 'methadone-oral-1', 30, '0123456', '0', 1, 1, '2026-01-01', '2026-01-01', 'i', 1,"
                " 'active', 1, '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO slots (id, patient_id, drug, slot_date, prescription_id, site_id, status, "
                "updated_at) VALUES (1, 1, 'methadone', '2026-01-05', 1, 1, 'dispensed', '2026-01-05'), "
                "(2, 1, 'methadone', '2026-01-06', 1, 1, 'covered', '2026-01-05')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO dispenses (id, slot_id, patient_id, prescription_id, site_id, drug, dose_mg, supervised, "
                "take_home_days, total_mg, first_day, last_day, covers, status, dispensed_by_id, dispensed_at) VALUES "
                "(1, 1, 1, 1, 1, 'methadone', 30, 1, 1, 60, '2026-01-05', '2026-01-06', '[]', 'dispensed', 1, "
                "'2026-01-05')"
            )
        )
        conn.execute(text("UPDATE slots SET covered_by_dispense_id = 1 WHERE id = 2"))

    upgrade_to_head(engine)  # rebuilds the referenced dispenses table

    with engine.connect() as conn:
        assert conn.execute(text("SELECT covered_by_dispense_id FROM slots WHERE id = 2")).scalar() == 1
        assert conn.execute(text("SELECT total_mg, handed_out_at FROM dispenses WHERE id = 1")).one() == (60, None)
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    engine.dispose()


def test_alembic_check_on_a_fresh_checkout_compares_models_with_the_migrations(tmp_path):
    # A fresh checkout's database does not exist yet: `alembic check` still answers the question it is
    # for (do the models and the migrations agree?) against a scratch database migrated to head.
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DISPENSING_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db"}
    run = subprocess.run(
        [str(Path(sys.executable).parent / "alembic"), "check"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "not at head" in run.stderr and "No new upgrade operations detected" in run.stdout + run.stderr
