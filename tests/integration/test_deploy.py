"""The deployment files as their tools read them: `nginx -t` accepts deploy/nginx/robocore.conf, and
`systemd-analyze verify` accepts the units of deploy/systemd without a warning."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import need

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate and key for 127.0.0.1 (openssl)."""
    need(shutil.which("openssl") is not None, "openssl absent — apt-get install openssl (scripts/setup.sh le fait)")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


def nginx_config(folder: Path, site: str, cert: Path, key: Path) -> Path:
    """A main nginx.conf in `folder` that includes `site` (its certificate paths replaced) and keeps every
    file nginx writes inside `folder`."""
    site = (site.replace("/etc/ssl/robocore/fullchain.pem", str(cert))
            .replace("/etc/ssl/robocore/privkey.pem", str(key)))
    (folder / "site.conf").write_text(site, encoding="utf-8")
    temp = "".join(f"{kind}_temp_path {folder / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                       "scgi"))
    main = folder / "nginx.conf"
    main.write_text(f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\nevents {{}}\n"
                    f"http {{\naccess_log off;\n{temp}include {folder / 'site.conf'};\n}}\n", encoding="utf-8")
    return main


def test_nginx_accepts_the_example(tmp_path: Path) -> None:
    """`nginx -t` finds the site file valid (TLS, upstream, locations), with a test certificate in place."""
    need(shutil.which("nginx") is not None, "nginx absent — apt-get install nginx-light (scripts/setup.sh le fait)")
    cert, key = self_signed(tmp_path)
    main = nginx_config(tmp_path, (DEPLOY / "nginx" / "robocore.conf").read_text(encoding="utf-8"), cert, key)
    checked = subprocess.run(["nginx", "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_systemd_accepts_the_units_without_a_warning(tmp_path: Path) -> None:
    """`systemd-analyze verify` reports nothing on the units and the timer (an unknown key or a bad value would be
    printed), with ExecStart pointing at this checkout's `robo`."""
    need(shutil.which("systemd-analyze") is not None, "systemd-analyze absent — apt-get install systemd")
    robo = str(Path(sys.executable).parent / "robo")
    units = []
    for unit in sorted((DEPLOY / "systemd").glob("*.*")):
        target = tmp_path / unit.name.replace("@.", "@robocore.")
        target.write_text(unit.read_text(encoding="utf-8").replace("/opt/robocore/.venv/bin/robo", robo),
                          encoding="utf-8")
        units.append(str(target))
    checked = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0 and not checked.stderr.strip() and not checked.stdout.strip(), \
        checked.stderr + checked.stdout
    assert len(units) == 5
