"""Form filling speed: the saisie-demandes robot against a plain Playwright script, same run.

200 requests entered in the demo portal (served by another process, no artificial slowness):
- baseline: a plain async Playwright script, one page, the same fills and clicks by label;
- robocore, concurrency 1 (target wall time <= 1.05 x baseline);
- robocore, concurrency 4 (target throughput >= 1.3 x baseline).
Each measured REPEAT times in turns (plain, c1, plain 4 ctx, c4, then again), each on a fresh
portal database; medians are printed, and the c1/plain ratio of each turn.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[1]
N = int(os.environ.get("BENCH_ITEMS", "200"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
ROBO = str(Path(sys.executable).parent / "robo")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def rows() -> list[dict[str, object]]:
    from datetime import date, timedelta

    return [{"Numéro de dossier": f"B-{i:05d}", "Nom du demandeur": f"Agent {i}", "Type": "Formation",
             "Date de dépôt": date(2026, 1, 1) + timedelta(days=i % 300), "Montant": 100 + i,
             "Priorité": "Urgente" if i % 3 == 0 else "Normale", "Commentaire": f"Ligne {i}"} for i in range(N)]


def workbook(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Demandes"
    data = rows()
    ws.append(list(data[0]))
    for r in data:
        ws.append(list(r.values()))
    wb.save(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_portal(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([ROBO, "demo", "portal", "--no-slow", "--port", str(port), "--data", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("portal did not start")


async def plain(url: str, contexts: int = 1) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        data = rows()
        await asyncio.gather(*(_plain_lane(browser, url, data[i::contexts]) for i in range(contexts)))
        await browser.close()


async def _plain_lane(browser, url: str, lane_rows: list[dict[str, object]]) -> None:  # type: ignore[no-untyped-def]
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{url}/connexion")
    await page.get_by_label("Identifiant").fill("agent.demo")
    await page.get_by_label("Mot de passe").fill("demo-portail-2026")
    await page.get_by_role("button", name="Se connecter").click()
    await page.get_by_text("Se déconnecter").wait_for()
    for r in lane_rows:
        await page.goto(f"{url}/demandes/nouvelle")
        await page.get_by_label("Numéro de dossier", exact=True).fill(str(r["Numéro de dossier"]))
        await page.get_by_label("Nom du demandeur", exact=True).fill(str(r["Nom du demandeur"]))
        await page.get_by_label("Date de dépôt", exact=True).fill(r["Date de dépôt"].isoformat())  # type: ignore[union-attr]
        await page.get_by_label("Montant demandé (€)", exact=True).fill(str(r["Montant"]))
        await page.get_by_label("Commentaire", exact=True).fill(str(r["Commentaire"]))
        await page.get_by_label("Type de demande", exact=True).select_option(str(r["Type"]))
        await page.get_by_label(str(r["Priorité"]), exact=True).check()
        await page.get_by_role("button", name="Enregistrer").click()
        await page.get_by_text("Demande enregistrée").wait_for()


def robot_folder(tmp: Path, concurrency: int) -> Path:
    folder = tmp / f"robot-c{concurrency}"
    shutil.copytree(ROOT / "robots" / "saisie-demandes", folder, dirs_exist_ok=True)
    workbook(folder / "demandes.xlsx")
    text = (folder / "robot.yaml").read_text(encoding="utf-8")
    text = text.replace("    retries: 2\n", f"    retries: 2\n    concurrency: {concurrency}\n")
    (folder / "robot.yaml").write_text(text, encoding="utf-8")
    return folder


def _cpu_by_pid() -> dict[str, float]:
    """CPU seconds used so far by each process a form-filling run involves: Chromium's,
    Playwright's driver, the portal and Python (this one and `robo run`)."""
    found, tick = {}, os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read()
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if any(word in cmd for word in (b"chromium", b"playwright", b"robo", b"python")):
            found[pid] = (int(fields[11]) + int(fields[12])) / tick
    return found


class CpuSampler(threading.Thread):
    """Samples the processes every 0.2 s, so that those ending before the run does count too."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.first, self.last, self.done = _cpu_by_pid(), {}, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.last.update(_cpu_by_pid())

    def seconds(self) -> float:
        self.done.set()
        self.join()
        self.last.update(_cpu_by_pid())
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())


BUSY: dict[str, list[float]] = {}
TIMES: dict[str, list[float]] = {}


def measure_once(tmp: Path, label: str, run) -> None:  # type: ignore[no-untyped-def]
    """One timed run of a configuration, on a fresh portal database."""
    data = tmp / f"portal-{label}-{len(TIMES.get(label, []))}"
    proc, url = start_portal(data)
    try:
        sampler, t0 = CpuSampler(), time.perf_counter()
        sampler.start()
        run(url)
        elapsed = time.perf_counter() - t0
        TIMES.setdefault(label, []).append(elapsed)
        BUSY.setdefault(label, []).append(sampler.seconds() / elapsed)
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = dict(os.environ, ROBOCORE_HOME=str(tmp / "home"), ROBOCORE_SECRET_COMPTE_PORTAIL_USERNAME="agent.demo",
                   ROBOCORE_SECRET_COMPTE_PORTAIL_PASSWORD="demo-portail-2026")

        def robot(concurrency: int):  # type: ignore[no-untyped-def]
            folder = robot_folder(tmp, concurrency)
            return lambda url: subprocess.run([ROBO, "run", str(folder), "-q", "-i", f"portail={url}"],
                                              env=env, check=True, capture_output=True)

        configs = {"plain": lambda url: asyncio.run(plain(url)), "c1": robot(1),
                   "plain4": lambda url: asyncio.run(plain(url, 4)), "c4": robot(4)}
        for _ in range(REPEAT):  # in turns, so that a drift of the machine hits every one alike
            for label, run in configs.items():
                measure_once(tmp, label, run)
        t_plain, t_plain4, t_c1, t_c4 = (statistics.median(TIMES[k]) for k in ("plain", "plain4", "c1", "c4"))
        busy = {k: statistics.median(v) for k, v in BUSY.items()}
        pairs = [c / p for c, p in zip(TIMES["c1"], TIMES["plain"], strict=True)]
        print(f"plain Playwright, 1 page : {t_plain:.2f} s = {N / t_plain:.2f} forms/s")
        print(f"plain Playwright, 4 ctx : {t_plain4:.2f} s = {N / t_plain4:.2f} forms/s "
              f"({t_plain / t_plain4:.2f} x one page: what this machine allows)")
        print(f"cores kept busy (of {os.cpu_count()}): plain 1 page {busy['plain']:.2f}, "
              f"plain 4 ctx {busy['plain4']:.2f}, robocore c1 {busy['c1']:.2f}, c4 {busy['c4']:.2f}")
        gains = [p / c for p, c in zip(TIMES["plain"], TIMES["c4"], strict=True)]
        print(f"robocore concurrency 1  : {t_c1:.2f} s = {N / t_c1:.2f} forms/s -> {statistics.median(pairs):.3f} x "
              "plain wall time, median of the turns (target <= 1.05; whole `robo run` process included)")
        print(f"  c1 / plain, turn by turn: {', '.join(f'{r:.3f}' for r in pairs)}")
        print(f"robocore concurrency 4  : {t_c4:.2f} s = {N / t_c4:.2f} forms/s -> {statistics.median(gains):.2f} x "
              "plain throughput, median of the turns (target >= 1.3)")
        print(f"  plain / c4, turn by turn: {', '.join(f'{r:.2f}' for r in gains)}")


if __name__ == "__main__":
    main()
