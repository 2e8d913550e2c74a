"""A newcomer's robot on a form page against a plain Playwright script: whole processes, same run.

The page (tests/integration/pages/find-shuffled.html, which the field-finding tests use too) is after
the RPA Challenge: a "Start" button, then a form of 7 fields whose labels are siblings of their inputs
(no `for=`), moved and renamed after each of the 10 submissions. Both sides do the same work from a
cold process: read the 10 rows of a workbook, launch Chromium, open the page, click Start, fill the 7
fields by their labels and submit, 10 times, then check that the page counted 10 submissions.

- baseline: `python plain.py`, a plain Playwright script (sync API, `label:text-is(...) + input`,
  openpyxl), as a newcomer would write it;
- robocore: `robo run ROBOT -q` with an empty ROBOCORE_HOME each time (SQLite store created,
  run recorded, items durable, ledger), the robot written as the README teaches.

Target (issue 13): robocore's wall time <= 1.1 x the baseline's. Each measured REPEAT times in
turns (plain, robo, plain, robo...); medians and each turn's ratio are printed.

robocore is measured as installed: its bytecode compiled first, as any install (and scripts/setup.sh
for this editable checkout) compiles it; else, with PYTHONDONTWRITEBYTECODE=1 as on these machines,
every `robo` start would compile its 80 modules again (about 0.2 s).
"""

from __future__ import annotations

import compileall
import functools
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[1]
REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))
ROBO = str(Path(sys.executable).parent / "robo")
FIELDS = ["First Name", "Last Name", "Company Name", "Role in Company", "Address", "Email", "Phone Number"]

PLAIN = '''\
import sys
from openpyxl import load_workbook
from playwright.sync_api import sync_playwright

FIELDS = {fields!r}
url, workbook = sys.argv[1], sys.argv[2]
sheet = load_workbook(workbook, read_only=True).active
lines = list(sheet.iter_rows(values_only=True))
header, rows = list(lines[0]), [dict(zip(lines[0], r)) for r in lines[1:]]
with sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
    page = browser.new_page()
    page.goto(url)
    page.get_by_role("button", name="Start").click()
    for row in rows:
        for name in FIELDS:
            page.locator(f'label:text-is("{{name}}") + input').fill(str(row[name]))
        page.get_by_role("button", name="Submit").click()
    page.get_by_text(f"{{len(rows)}} submitted").wait_for()
    browser.close()
'''

ROBOT = '''\
robot: rpa-challenge
title: RPA Challenge
version: 1
process:
  name: Saisie des contacts
  service: Banc d'essai
  manual_minutes_per_item: 1
inputs:
  classeur: {{type: file, default: challenge.xlsx}}
  page: {{type: url}}
steps:
  - id: lignes
    use: excel.read_table
    with: {{path: "{{{{ inputs.classeur }}}}"}}
  - use: browser.open
    with: {{url: "{{{{ inputs.page }}}}"}}
  - use: browser.click
    with: {{role: button, name: Start}}
  - id: saisie
    for_each: "{{{{ steps.lignes.rows }}}}"
    as: ligne
    key: "{{{{ ligne.email }}}}"
    steps:
      - use: browser.fill
        with:
          fields:
{fills}
      - use: browser.click
        with: {{role: button, name: Submit}}
  - use: browser.expect_text
    with: {{text: "{{{{ steps.lignes.count }}}} submitted"}}
'''


def workbook(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(FIELDS)
    for i in range(10):
        ws.append([f"Prénom{i}", f"Nom{i}", f"Société {i}", "Agent", f"{i} rue de la Paix, Toulouse",
                   f"agent{i}@exemple.fr", f"0561{i:06d}"])
    wb.save(path)


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/find-shuffled.html"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    compileall.compile_dir(ROOT / "robocore", quiet=1)  # a no-op when up to date
    server, url = serve(ROOT / "tests" / "integration" / "pages")
    with tempfile.TemporaryDirectory(prefix="bench-newcomer-") as tmp_name:
        tmp = Path(tmp_name)
        robot = tmp / "rpa-challenge"
        robot.mkdir()
        workbook(robot / "challenge.xlsx")
        fills = "\n".join(f'            {name}: "{{{{ ligne[\'{name}\'] }}}}"' for name in FIELDS)
        (robot / "robot.yaml").write_text(ROBOT.format(fills=fills), encoding="utf-8")
        (tmp / "plain.py").write_text(PLAIN.format(fields=FIELDS), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
        plain_s, robo_s = [], []
        for turn in range(REPEAT):
            plain_s.append(timed([sys.executable, str(tmp / "plain.py"), url, str(robot / "challenge.xlsx")], env))
            home = tmp / f"home-{turn}"
            robo_env = dict(env, ROBOCORE_HOME=str(home))
            robo_s.append(timed([ROBO, "run", str(robot), "-q", "-i", f"page={url}"], robo_env))
            print(f"turn {turn + 1}: plain {plain_s[-1]:.2f} s, robo run {robo_s[-1]:.2f} s, "
                  f"ratio {robo_s[-1] / plain_s[-1]:.2f}", flush=True)
    server.shutdown()
    plain, robo = statistics.median(plain_s), statistics.median(robo_s)
    ratio = robo / plain
    print(f"median: plain Playwright {plain:.2f} s, robo run {robo:.2f} s → {ratio:.2f} × (target ≤ 1.1)")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "newcomer.json").write_text(json.dumps({
        "plain_s": plain_s, "robo_s": robo_s, "median_plain_s": plain, "median_robo_s": robo, "ratio": ratio,
        "load": os.getloadavg()}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
