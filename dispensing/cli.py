"""The `dispensing` console script: serve, migrate, manage users, export a record."""

import sys
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError, OperationalError

from dispensing.config import get_settings
from dispensing.db import make_engine, make_session_factory, transaction
from dispensing.enums import Role
from dispensing.errors import DispensingError
from dispensing.migrate import upgrade_to_head
from dispensing.services.context import Ctx


def _engine():
    settings = get_settings()
    return settings, make_engine(
        settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
    )


class _PlainErrors(click.Group):
    """A configuration mistake (a bad DISPENSING_DATABASE_URL, a placeholder secret, a database that
    cannot be reached) is one plain line for the operator, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = "DISPENSING_" + str(err["loc"][0]).upper() if err.get("loc") else "configuration"
            msg = err["msg"].removeprefix("Value error, ")
            raise click.ClickException(msg if msg.startswith(field) else f"{field}: {msg}") from None
        except ArgumentError as exc:
            raise click.ClickException(f"DISPENSING_DATABASE_URL is not a database URL ({exc})") from None
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "cannot connect"
            raise click.ClickException(f"The database cannot be reached (DISPENSING_DATABASE_URL): {reason}") from None


@click.group(cls=_PlainErrors)
def main() -> None:
    """Medication dispensing for rusmiddelcentre."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Load a demo clinic first if the database is empty.")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server processes (PostgreSQL)."
)
def serve(host: str, port: int, demo: bool, workers: int) -> None:
    """Migrate the database to head, then serve the API (docs at /docs)."""
    import uvicorn

    from api.main import create_app
    from dispensing.runtime import tune_garbage_collector

    settings, engine = _engine()
    if workers > 1 and engine.dialect.name == "sqlite":
        raise click.ClickException("Several workers need PostgreSQL: SQLite serialises every write in one file.")
    upgrade_to_head(engine)
    _check_server_keys(settings, engine)
    from dispensing.services import audit_seal

    audit_seal.configure(settings.resolved_audit_key(), settings.audit_checkpoint_path)
    if demo:
        from dispensing.demo import load_demo

        with transaction(make_session_factory(engine)) as session:
            logins = load_demo(session, settings)
        if logins:
            click.echo("Demo clinic loaded. Logins (username / password / role):")
            for username, password, role in logins:
                click.echo(f"  {username:16} {password:20} {role}")
        else:
            click.echo("Database not empty: demo not loaded (the existing data is kept).")
    click.echo(f"Screens (nurse, doctor, pickup site): http://{host}:{port}/ui")
    click.echo(f"API docs: http://{host}:{port}/docs")
    if workers > 1:
        # Each worker builds its own app (and engine) from the same environment.
        engine.dispose()
        uvicorn.run("api.main:serve_app", factory=True, host=host, port=port, workers=workers)
        return
    app = create_app(settings, engine=engine)
    tune_garbage_collector()
    uvicorn.run(app, host=host, port=port)


def _check_server_keys(settings, engine) -> None:
    """Refuse to start with other keys than the other servers of this database (one plain line)."""
    from dispensing.labels import load_or_create_signing_key
    from dispensing.services.deployment import check_server_keys, label_key_fingerprint, secret_fingerprint

    fingerprints = {
        "login_secret": secret_fingerprint(settings.resolved_secret()),
        "label_key": label_key_fingerprint(load_or_create_signing_key(settings.label_key_path)),
        # the audit log's HMAC key: a server with another key would write entries the others cannot verify
        "audit_key": secret_fingerprint(settings.resolved_audit_key()),
    }
    try:
        with transaction(make_session_factory(engine)) as session:
            check_server_keys(session, fingerprints, datetime.now(UTC))
    except DispensingError as exc:
        raise click.ClickException(exc.message) from exc


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Alembic upgrade to head."""
    _, engine = _engine()
    upgrade_to_head(engine)
    click.echo("Database is at the newest schema.")


@main.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--site-id", type=int, default=None, help="Required for site_staff: the one site they work at.")
@click.option("--full-name", default=None)
@click.option("--can-prescribe-addictive", is_flag=True, help="Doctor with the right to prescribe addictive medicine.")
@click.option("--authorisation-id", default=None, help="The doctor's authorisation id (for SIB reporting).")
@click.option("--password", default=None, help="Default: read from stdin (safer: not in the shell history).")
def users_create(username, role, site_id, full_name, can_prescribe_addictive, authorisation_id, password) -> None:
    """Create a user; the password is read from stdin unless given."""
    from dispensing.services.users import create_user

    if password is None:
        password = _read_password()
    try:
        with _operator() as ctx:
            user = create_user(
                ctx,
                username=username,
                password=password,
                role=Role(role),
                full_name=full_name,
                site_id=site_id,
                can_prescribe_addictive=can_prescribe_addictive,
                authorisation_id=authorisation_id,
            )
            user_id = user.id
    except DispensingError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created user {username} (id {user_id}, role {role}).")


def _sheet_date(value: str, today: date) -> date:
    """ISO date, or "today" / "tomorrow" in the clinic's zone (a cron job prints tomorrow's sheet)."""
    named = {"today": today, "tomorrow": today + timedelta(days=1)}
    if value in named:
        return named[value]
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: use YYYY-MM-DD, today or tomorrow.", param_hint="--date") from None


@main.command()
@click.option("--site", "site_id", required=True, type=int, help="The site's id.")
@click.option("--date", "day", default="tomorrow", show_default=True, help="YYYY-MM-DD, today or tomorrow.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--as",
    "username",
    required=True,
    help="The nurse, doctor or admin account the read is logged under (e.g. an account for the print job).",
)
def contingency(site_id: int, day: str, out: Path, username: str) -> None:
    """Print a site's contingency sheet (PDF): every dose due on the date, for when the system is down."""
    from sqlalchemy import select

    from dispensing.models import User
    from dispensing.services.contingency import contingency_sheet_pdf

    settings, engine = _engine()
    upgrade_to_head(engine)
    try:
        with transaction(make_session_factory(engine)) as session:
            actor = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
            if actor is None or not actor.active:
                raise click.ClickException(f"No active user {username!r}: name a nurse, doctor or admin account.")
            ctx = Ctx(
                session=session, actor=actor, now=datetime.now(UTC), tz=settings.tz, secret=settings.resolved_secret()
            )
            when = _sheet_date(day, ctx.today)
            content = contingency_sheet_pdf(ctx, site_id, when)
    except DispensingError as exc:
        raise click.ClickException(exc.message) from exc
    out.write_bytes(content)
    click.echo(f"Contingency sheet of site {site_id} for {when} written to {out}.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


@contextmanager
def _operator():
    """A unit of work for the operator at the console (no logged-in user; audited as the system)."""
    from dispensing.services import audit_seal

    settings, engine = _engine()
    upgrade_to_head(engine)
    audit_seal.configure(settings.resolved_audit_key(), settings.audit_checkpoint_path)
    with transaction(make_session_factory(engine)) as session:
        yield Ctx(session=session, actor=None, now=datetime.now(UTC), tz=settings.tz, secret=settings.resolved_secret())


@users.command("list")
def users_list() -> None:
    """Every account: username, role, site, whether it can log in."""
    from dispensing.services.users import list_users

    with _operator() as ctx:
        for u in list_users(ctx):
            state = "active" if u.active else "disabled"
            site = f" site {u.site_id}" if u.site_id else ""
            click.echo(f"{u.username:20} {u.role.value:11} {state:8} {u.full_name or ''}{site}")


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """The user can no longer log in; their records stay."""
    from dispensing.services.users import disable_user

    try:
        with _operator() as ctx:
            disable_user(ctx, username)
    except DispensingError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"User {username} is disabled.")


@users.command("reset-password")
@click.argument("username")
def users_reset_password(username: str) -> None:
    """Set a new password, read from stdin (not the shell history)."""
    from dispensing.services.users import reset_password

    password = _read_password()
    try:
        with _operator() as ctx:
            reset_password(ctx, username, password)
    except DispensingError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"New password set for {username}.")


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the keyed hash chain and compare it with the signed checkpoint (exit 1 when broken).

    Needs the server's key files (DATA_DIR/audit-hmac.key, DATA_DIR/audit-checkpoint.json).
    """
    from dispensing.services import audit as audit_log
    from dispensing.services import audit_seal

    settings, engine = _engine()
    audit_seal.configure(settings.resolved_audit_key(), settings.audit_checkpoint_path)
    with transaction(make_session_factory(engine)) as session:
        ctx = Ctx(session=session, actor=None, now=datetime.now(UTC), tz=settings.tz, secret=b"")
        check = audit_log.verify_chain(ctx)
    if check.ok:
        click.echo(f"ok: {check.entries} entries, checkpoint at {check.checkpointed_seq or '-'}")
        return
    click.echo(f"BROKEN: {check.problem} at entry {check.first_bad_seq or '-'} ({check.entries} entries read)")
    sys.exit(1)


@main.group()
def export() -> None:
    """Export a patient's record for another system."""


@export.command("fhir")
@click.option("--patient", "patient_id", required=True, type=int, help="The patient's id.")
@click.option(
    "--base-url",
    default="http://127.0.0.1:8000/fhir",
    show_default=True,
    help="The FHIR base the bundle's fullUrls use (the server's /fhir).",
)
def export_fhir(patient_id: int, base_url: str) -> None:
    """Write the patient's record as a FHIR R4 Bundle (JSON) to stdout; audited as a read by "cli"."""
    from dispensing.fhir.bundle import to_json
    from dispensing.services import audit_seal
    from dispensing.services.fhir import patient_everything

    settings, engine = _engine()
    upgrade_to_head(engine)
    audit_seal.configure(settings.resolved_audit_key(), settings.audit_checkpoint_path)
    try:
        with transaction(make_session_factory(engine)) as session:
            ctx = Ctx(
                session=session, actor=None, now=datetime.now(UTC), tz=settings.tz, secret=settings.resolved_secret()
            )
            bundle = patient_everything(ctx, patient_id, base_url=base_url.rstrip("/"), actor_name="cli")
    except DispensingError as exc:
        raise click.ClickException(exc.message) from exc
    sys.stdout.buffer.write(to_json(bundle) + b"\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
