"""The deployment files under deploy/ agree with the code: the systemd units call real `robo` commands with
real options, the environment example names every setting (and only settings) with valid values, and the
nginx example forwards to the server's address with the body limit of ROBOCORE_UPLOAD_MAX_MB."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
import typer

from robocore.cli.app import app
from robocore.server.uploads import FORM_OVERHEAD
from robocore.settings import Settings, variable

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
DAEMONS = [u for u in UNITS if u.name != "robocore-purge.service"]
ENV_EXAMPLE = DEPLOY / "robocore.env.example"
NGINX = DEPLOY / "nginx" / "robocore.conf"


def _unit(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Service"]


def _env_lines() -> list[tuple[str, str, bool]]:
    """(name, value, active) of every KEY=value line of the example, commented out or not."""
    found = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"(#?)([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            found.append((match[2], match[3], not match[1]))
    return found


def test_the_units_are_shipped() -> None:
    """A server, a worker template (one instance per queue), a scheduler, and a daily purge with its timer."""
    assert [u.name for u in UNITS] == ["robocore-purge.service", "robocore-scheduler.service",
                                       "robocore-server.service", "robocore-worker@.service"]
    assert (DEPLOY / "systemd" / "robocore-purge.timer").exists()


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_unit_calls_a_real_robo_command_with_real_options(unit: Path) -> None:
    """ExecStart is `robo <command> <options>` that the CLI itself parses without error (%i: a queue name)."""
    argv = shlex.split(_unit(unit)["ExecStart"].replace("%i", "robocore"))
    assert argv[0] == "/opt/robocore/.venv/bin/robo"
    group = typer.main.get_command(app)
    command = group.commands[argv[1]]  # type: ignore[attr-defined]
    with command.make_context(argv[1], argv[2:]) as ctx:  # raises on an unknown option or a bad value
        assert ctx.params


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_unit_runs_unprivileged_and_hardened(unit: Path) -> None:
    """A system user, the shared environment file, no new privileges, a read-only system but the data folder,
    a private /tmp, a bounded stop; the long-running ones restart on failure."""
    service = _unit(unit)
    home = dict((n, v) for n, v, active in _env_lines() if active)["ROBOCORE_HOME"]
    assert (service["User"], service["Group"]) == ("robocore", "robocore")
    assert service["EnvironmentFile"] == "/etc/robocore/robocore.env"
    assert (service["NoNewPrivileges"], service["ProtectSystem"], service["PrivateTmp"]) == ("yes", "strict", "yes")
    assert home in service["ReadWritePaths"].split()
    assert int(service["TimeoutStopSec"]) > 0
    assert service.get("Restart") == ("on-failure" if unit in DAEMONS else None)


def test_the_environment_example_names_every_setting_and_only_settings() -> None:
    """Every ROBOCORE_* variable of robocore/settings.py is in the example (set or commented out); nothing
    else named ROBOCORE_ is; the values set are valid settings."""
    lines = _env_lines()
    robocore = {name for name, _, _ in lines if name.startswith("ROBOCORE_")}
    assert robocore == {variable(field) for field in Settings.model_fields}
    active = {name.removeprefix("ROBOCORE_").lower(): value for name, value, on in lines
              if on and name.startswith("ROBOCORE_")}
    settings = Settings(**active)
    assert settings.forwarded_allow_ips == ("127.0.0.1",)


def test_the_environment_example_holds_no_secret() -> None:
    """Secret-looking variables are commented out with a placeholder; URLs carry no password."""
    for name, value, active in _env_lines():
        if re.search(r"ACCESS_KEY|PASSWORD|TOKEN|^ROBOCORE_SECRET_", name):
            assert not active and value == "CHANGEZ-MOI", name
        userinfo = re.match(r"[a-z+]+://([^@/]*)@", value)
        if userinfo and ":" in userinfo[1]:
            assert not active and userinfo[1].endswith(":CHANGEZ-MOI"), name


def test_nginx_forwards_to_the_server_unit_with_the_upload_limit() -> None:
    """nginx proxies to the server unit's --host:--port, replaces X-Forwarded-For with the peer's address,
    sets X-Forwarded-Proto, and its body limit is just above ROBOCORE_UPLOAD_MAX_MB plus the form overhead."""
    conf = NGINX.read_text(encoding="utf-8")
    server = shlex.split(_unit(DEPLOY / "systemd" / "robocore-server.service")["ExecStart"])
    host, port = server[server.index("--host") + 1], server[server.index("--port") + 1]
    assert re.search(rf"^\s*server {re.escape(host)}:{port};", conf, re.M)
    assert re.search(r"^\s*proxy_set_header X-Forwarded-For \$remote_addr;", conf, re.M)
    assert re.search(r"^\s*proxy_set_header X-Forwarded-Proto \$scheme;", conf, re.M)
    size = re.search(r"^\s*client_max_body_size (\d+)m;", conf, re.M)
    assert size is not None
    accepted = int(Settings().upload_max_mb * 1024 * 1024) + FORM_OVERHEAD
    assert accepted <= int(size[1]) * 1024 * 1024 <= accepted + 2 * 1024 * 1024
