"""The browser actions return exactly the result their TypedDict documents (real Chromium, local pages)."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from robocore.actiondoc import mismatches
from robocore.actions import browser
from robocore.actions._browser_session import RUNTIME, open_runtime
from robocore.context import Context, RunSettings, anull
from tests.conftest import need_chromium

PAGES = Path(__file__).parent / "pages"
pytestmark = pytest.mark.browser


class Handler(http.server.SimpleHTTPRequestHandler):
    """The test pages, plus a download and a page linking to it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(PAGES), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path == "/telecharger.html":
            self._send(b"<a href='/fichier.csv'>Exporter</a>", "text/html; charset=utf-8")
        elif self.path == "/fichier.csv":
            self._send(b"numero;montant\nA;1\n", "text/csv",
                       {"Content-Disposition": 'attachment; filename="export.csv"'})
        else:
            super().do_GET()

    def _send(self, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    need_chromium()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def _check(func: Any, value: Any) -> None:
    annotation = get_type_hints(func, include_extras=True)["return"]
    assert mismatches(annotation, value) == [], func.__name__


def test_browser_results_match_their_documentation(server: str, tmp_path: Path) -> None:
    """Every browser.* action, run on a real page, returns the fields its TypedDict documents, of those types."""
    (tmp_path / "piece.pdf").write_bytes(b"%PDF-1.4 test")
    checked: set[str] = set()

    async def call(func: Any, ctx: Context, **kwargs: Any) -> Any:
        value = await func(ctx, **kwargs)
        _check(func, value)
        checked.add(func.__robocore_action__.name)
        return value

    async def body() -> None:
        ctx = Context(run_id="t", robot="t", robot_dir=tmp_path, run_dir=tmp_path,
                      settings=RunSettings(timeout_ms=5000))
        async with open_runtime(ctx.settings) as runtime:
            await ctx.aresource(RUNTIME, lambda: anull(runtime), scope="run")
            try:
                await call(browser.open_page, ctx, url=f"{server}/form.html")
                await call(browser.fill, ctx, fields={"Nom": "Dupont", "Commentaire": "ras"})
                await call(browser.select, ctx, field="Type de demande", value="Formation")
                await call(browser.check, ctx, field="J'accepte les conditions")
                await call(browser.upload, ctx, field="Pièce justificative", path=Path("piece.pdf"))
                await call(browser.press, ctx, key="Tab", field="Commentaire")
                await call(browser.wait_for, ctx, css="#result", state="attached")
                await call(browser.extract_text, ctx, css="label[for=nom]")
                await call(browser.screenshot, ctx, name="formulaire")
                await call(browser.click, ctx, text="Enregistrer")
                await call(browser.expect_text, ctx, text="Formation")
                await call(browser.expect_url, ctx, pattern="form")
                await call(browser.open_page, ctx, url=f"{server}/table.html")
                table = await call(browser.extract_table, ctx, css="table.demandes")
                assert table["rows"]
                await call(browser.open_page, ctx, url=f"{server}/telecharger.html")
                await call(browser.download, ctx, text="Exporter")
            finally:
                await ctx.aclose()

    asyncio.run(body())
    documented = {a.__robocore_action__.name for a in vars(browser).values() if hasattr(a, "__robocore_action__")}
    assert checked == documented  # a new browser action must be added here
