"""The operator's console: list, disable and reset users; a configuration mistake is one plain line."""

from click.testing import CliRunner

from dispensing.cli import main
from dispensing.config import get_settings
from tests.test_config_cli_demo import cli_env  # noqa: F401  (a fixture)


def test_list_disable_and_reset_a_user(cli_env):  # noqa: F811
    run = CliRunner().invoke
    assert (
        run(
            main,
            ["users", "create", "--username", "anne", "--role", "nurse", "--full-name", "Anne Ø"],
            input="long-password-1\n",
        ).exit_code
        == 0
    )
    listed = run(main, ["users", "list"])
    assert listed.exit_code == 0 and "anne" in listed.output and "active" in listed.output
    short = run(main, ["users", "reset-password", "anne"], input="short\n")
    assert short.exit_code != 0 and "too short" in short.output
    reset = run(main, ["users", "reset-password", "anne"], input="a-new-password-2\n")
    assert reset.exit_code == 0, reset.output
    assert run(main, ["users", "disable", "anne"]).exit_code == 0
    assert "disabled" in run(main, ["users", "list"]).output
    unknown = run(main, ["users", "disable", "bob"])
    assert unknown.exit_code != 0 and unknown.output.strip() == "Error: No user named bob."


def test_a_configuration_mistake_is_one_line(cli_env, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DISPENSING_DATABASE_URL", "not-a-url")
    get_settings.cache_clear()
    r = CliRunner().invoke(main, ["db", "upgrade"])
    assert r.exit_code == 1 and r.output.count("\n") == 1 and "DISPENSING_DATABASE_URL" in r.output
    monkeypatch.setenv("DISPENSING_DATABASE_URL", f"sqlite:///{cli_env}/cli.db")
    monkeypatch.setenv("DISPENSING_SECRET_KEY", "changeme")
    get_settings.cache_clear()
    r = CliRunner().invoke(main, ["users", "list"])
    assert r.exit_code == 1 and r.output.count("\n") == 1 and r.output.startswith("Error: DISPENSING_SECRET_KEY")
    get_settings.cache_clear()


def test_serve_prints_the_screens_address_first(cli_env, monkeypatch):  # noqa: F811
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: None)
    r = CliRunner().invoke(main, ["serve", "--port", "8123"])
    assert r.exit_code == 0, r.output
    lines = [line for line in r.output.splitlines() if "http://" in line]
    assert lines[0].endswith("http://127.0.0.1:8123/ui") and lines[1].endswith("/docs")
