"""The browser actions against small local pages, in the system Chromium (one shared per session)."""

from __future__ import annotations

import asyncio
import base64
import http.server
import json
import threading
import time
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest

from robocore.actions import browser
from robocore.actions._browser_session import PAGE, RUNTIME, Runtime, open_runtime
from robocore.context import Context, RunSettings, anull
from robocore.errors import ApplicationError, BusinessError
from robocore.secrets import Secret
from tests.conftest import need_chromium

T = TypeVar("T")
PAGES = Path(__file__).parent / "pages"
pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _chromium_required() -> None:
    need_chromium()


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static pages, plus a login that sets a cookie, a who-am-I page, a download and an error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(PAGES), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        pass

    def _send(self, body: str, status: int = 200, headers: dict[str, str] | None = None,
              ctype: str = "text/html; charset=utf-8") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        url = urlsplit(self.path)
        if url.path == "/login":
            user = parse_qs(url.query).get("user", ["?"])[0]
            self._send(f"<p>Connecté</p><script>sessionStorage.setItem('jeton', 'J-{user}');</script>",
                       headers={"Set-Cookie": f"session={user}; Path=/"})
        elif url.path == "/whoami":
            cookie = self.headers.get("Cookie", "")
            self._send(f"<p id='who'>{cookie}</p><p id='jeton'></p><script>document.getElementById"
                       "('jeton').textContent = sessionStorage.getItem('jeton') || 'aucun';</script>")
        elif url.path.startswith("/download/"):
            name = url.path.rsplit("/", 1)[1]
            self._send("numero;montant\nSUB-1;12\n", ctype="text/csv",
                       headers={"Content-Disposition": f'attachment; filename="{name}"'})
        elif url.path == "/error500":
            self._send("<p>Erreur interne</p>", status=500)
        else:
            super().do_GET()


class LoopThread:
    """One event loop in a thread for the whole session, so that one Chromium serves every test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Awaitable[T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """The test pages on 127.0.0.1 with a free port."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def loop() -> Iterator[LoopThread]:
    """The session's event loop thread."""
    lt = LoopThread()
    yield lt
    lt.close()


@pytest.fixture(scope="session")
def shared(loop: LoopThread) -> Iterator[Runtime]:
    """One Playwright + Chromium for the session."""
    cm = open_runtime(RunSettings())
    runtime = loop.run(cm.__aenter__())
    yield runtime
    loop.run(cm.__aexit__(None, None, None))


@pytest.fixture
def make_ctx(shared: Runtime, tmp_path: Path) -> Callable[..., Awaitable[Context]]:
    """Build a run Context that uses the shared Chromium (with a fresh field cache)."""

    async def make(**settings: Any) -> Context:
        ctx = Context(run_id="t", robot="t", robot_dir=tmp_path, run_dir=tmp_path,
                      settings=RunSettings(**{"timeout_ms": 5000, **settings}))
        runtime = Runtime(ctx.settings, shared.playwright, shared.browser)
        await ctx.aresource(RUNTIME, lambda: anull(runtime), scope="run")
        return ctx

    return make


async def _result(ctx: Context) -> dict[str, Any]:
    """The JSON the test form shows once submitted."""
    return json.loads((await browser.extract_text(ctx, css="#result"))["text"])


async def _pixels(runtime: Runtime, png: Path, box: dict[str, float]) -> dict[str, float]:
    """Share of pure black pixels and of dark ones in a region of a PNG (decoded by Chromium)."""
    assert runtime.browser is not None
    page = await runtime.browser.new_page()
    try:
        data = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
        return await page.evaluate("""async ([src, b]) => {
          const img = new Image(); img.src = src; await img.decode();
          const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
          const g = c.getContext('2d'); g.drawImage(img, 0, 0);
          const d = g.getImageData(Math.round(b.x) + 2, Math.round(b.y) + 2,
                                   Math.round(b.width) - 4, Math.round(b.height) - 4).data;
          let black = 0, dark = 0, n = d.length / 4;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i] === 0 && d[i+1] === 0 && d[i+2] === 0) black++;
            if (d[i] + d[i+1] + d[i+2] < 200) dark++;
          }
          return {black: black / n, dark: dark / n};
        }""", [data, box])
    finally:
        await page.close()


@pytest.mark.browser
def test_fill_finds_fields_by_label_placeholder_role_and_css(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """Fields are found by label (exact or decorated), placeholder, ARIA name or CSS; values typed by input type."""
    async def body() -> None:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/form.html")
            await browser.fill(ctx, fields={
                "Nom": "Dupont", "Prénom": "Jean", "Commune de résidence": "Toulouse",
                "Adresse électronique": "jean@example.fr", "Téléphone": "0561000000",
                "input.code": "X-42", "Montant demandé (€)": 1234.5, "Quantité": Decimal("3.50"),
                "Date de dépôt": date(2026, 3, 14), "Date de naissance": datetime(1980, 1, 2),
                "Type de demande": "subvention", "Priorité": "Urgente", "J'accepte les conditions": "oui",
                "Commentaire": None})
            await browser.click(ctx, role="button", name="Enregistrer")
            got = await _result(ctx)
            runtime = ctx.peek(RUNTIME, "run")
            strategies = {name: s for (_, name), (s, _) in runtime.fields.items()}
        finally:
            await ctx.aclose()
        assert got == {"nom": "Dupont", "prenom": "Jean", "montant": "1234,5", "quantite": "3.5",
                       "depot": "2026-03-14", "naissance": "02/01/1980", "commune": "Toulouse",
                       "courriel": "jean@example.fr", "tel": "0561000000", "code_interne": "X-42",
                       "type": "SUB", "priorite": "Urgente", "accord": "on", "piece": "",
                       "identifiant": "", "commentaire": ""}
        assert strategies["Nom"] == "label-loose"
        assert strategies["Prénom"] == "label"
        assert strategies["Commune de résidence"] == "placeholder"
        assert strategies["Téléphone"] == "role"
        assert strategies["input.code"] == "css"

    loop.run(body())


@pytest.mark.browser
def test_second_fill_on_same_page_costs_no_lookup(loop: LoopThread, server: str, make_ctx: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a field's strategy is known for a page, filling it again makes no count() round-trip."""
    from playwright.async_api import Locator

    calls: list[str] = []
    original = Locator.count

    async def counting(self: Locator) -> int:
        calls.append("count")
        return await original(self)

    async def body() -> None:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/form.html")
            await browser.fill(ctx, fields={"Nom": "A", "Quantité": 2})
            monkeypatch.setattr(Locator, "count", counting)
            await browser.open_page(ctx, url=f"{server}/form.html?second")
            await browser.fill(ctx, fields={"Nom": "B", "Quantité": 3})
            await browser.click(ctx, css="button[type=submit]")
            got = await _result(ctx)
        finally:
            await ctx.aclose()
        assert calls == []
        assert (got["nom"], got["quantite"]) == ("B", "3")

    loop.run(body())


@pytest.mark.browser
def test_select_check_radio_upload_click_and_press(loop: LoopThread, server: str, make_ctx: Any,
                                                   tmp_path: Path) -> None:
    """select picks by label or value, check toggles, radio groups take a label, upload attaches, press sends keys."""
    (tmp_path / "piece.pdf").write_bytes(b"%PDF-1.4 test")

    async def body() -> None:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/form.html")
            assert (await browser.select(ctx, field="Type de demande", value="Formation"))["value"] == "Formation"
            await browser.select(ctx, field="Priorité", value="Normale")
            await browser.check(ctx, field="J'accepte les conditions")
            await browser.check(ctx, field="J'accepte les conditions", checked=False)
            await browser.check(ctx, field="Urgente")
            up = await browser.upload(ctx, field="Pièce justificative", path=Path("piece.pdf"))
            assert up["path"] == str((tmp_path / "piece.pdf").resolve())
            await browser.press(ctx, key="Control+Enter", field="Commentaire")
            assert (await browser.extract_text(ctx, css="#result"))["text"] == "ctrl-enter"
            with pytest.raises(BusinessError, match="Valeur « Logement » absente.*Subvention, Formation"):
                await browser.select(ctx, field="Type de demande", value="Logement")
            await browser.click(ctx, text="Enregistrer")  # two buttons contain it: the exact one wins
            got = await _result(ctx)
            await browser.expect_text(ctx, text='"priorite":"Urgente"')
        finally:
            await ctx.aclose()
        assert got["type"] == "Formation" and got["priorite"] == "Urgente"
        assert "accord" not in got and got["piece"] == "piece.pdf"

    loop.run(body())


@pytest.mark.browser
def test_expect_text_failure_names_text_and_url_within_timeout(loop: LoopThread, server: str,
                                                              make_ctx: Any) -> None:
    """A missing text is an ApplicationError (or business, when asked) naming the text and URL, after the timeout."""
    async def body() -> None:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/form.html")
            started = time.monotonic()
            with pytest.raises(ApplicationError) as err:
                await browser.expect_text(ctx, text="Demande enregistrée", timeout_ms=500)
            assert time.monotonic() - started < 5
            assert str(err.value) == (f"Texte « Demande enregistrée » absent de la page {server}/form.html "
                                      "(délai 0,5 s)")
            with pytest.raises(BusinessError):
                await browser.expect_text(ctx, text="Demande enregistrée", timeout_ms=200, business=True)
            with pytest.raises(ApplicationError, match="Adresse « /confirmation » attendue"):
                await browser.expect_url(ctx, pattern="/confirmation", timeout_ms=200)
            assert (await browser.expect_url(ctx, pattern=r"/form\.html$"))["url"].endswith("/form.html")
            await browser.wait_for(ctx, css="#other")
        finally:
            await ctx.aclose()

    loop.run(body())


@pytest.mark.browser
def test_missing_field_is_named_and_late_field_is_awaited(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """A field absent from the page is an ApplicationError naming it, the URL and the delay; a late field is found."""
    secret = Secret("ne-jamais-afficher-42", "t.secret")

    async def body() -> None:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/form.html")
            with pytest.raises(ApplicationError) as err:
                await browser.fill(ctx, fields={"Numéro SIRET": secret}, timeout_ms=400)
            message = str(err.value)
            assert message.startswith(f"Champ « Numéro SIRET » introuvable sur {server}/form.html (délai 0,4 s) — "
                                      "libellés de la page : « ")
            assert "ne-jamais-afficher-42" not in message
            with pytest.raises(ApplicationError, match="Élément « button Supprimer » introuvable"):
                await browser.click(ctx, role="button", name="Supprimer", timeout_ms=300)
            await browser.open_page(ctx, url=f"{server}/slow.html")
            await browser.fill(ctx, fields={"Ville": "Albi"})
            page = ctx.peek(PAGE, "lane").page
            assert await page.input_value("#ville") == "Albi"
        finally:
            await ctx.aclose()

    loop.run(body())


@pytest.mark.browser
def test_extract_table_keys_rows_by_header(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """An HTML table becomes rows keyed by its (merged) header cells; empty rows are skipped."""
    async def body() -> dict[str, Any]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/table.html")
            by_index = await browser.extract_table(ctx, css="table", index=1)
            by_css = await browser.extract_table(ctx, css="table.demandes")
            assert by_index == by_css
            return by_css
        finally:
            await ctx.aclose()

    table = loop.run(body())
    assert table["columns"] == ["Numéro", "Montant / Demandé", "Montant / Accordé", "Colonne 4"]
    assert table["count"] == 3
    assert table["rows"][0] == {"Numéro": "SUB-1", "Montant / Demandé": "1 234,56",
                                "Montant / Accordé": "1 000,00", "Colonne 4": "ok"}
    assert table["rows"][2] == {"Numéro": "SUB-2", "Montant / Demandé": "refusé",
                                "Montant / Accordé": "refusé", "Colonne 4": "non"}


@pytest.mark.browser
def test_failure_screenshot_masks_secret_fields_and_passwords(loop: LoopThread, server: str, make_ctx: Any,
                                                              shared: Runtime, tmp_path: Path) -> None:
    """Evidence screenshots hide every field a Secret was typed in, password inputs and texts showing a secret."""
    async def body() -> None:
        ctx = await make_ctx()
        try:
            lane = ctx.for_lane()
            item = lane.for_item("D-1")
            await browser.open_page(item, url=f"{server}/form.html")
            await browser.fill(item, fields={"Identifiant": Secret("agent.secret-007", "p.user"),
                                             "Mot de passe": Secret("Pa55w0rd!xyz", "p.pwd"),
                                             "Nom": "Visible"})
            page = lane.peek(PAGE, "lane").page
            in_document = ("e => { const r = e.getBoundingClientRect(); "
                           "return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}; }")
            boxes = {k: await page.locator(k).evaluate(in_document) for k in ("#identifiant", "#mdp", "#nom")}
            raw = tmp_path / "raw.png"
            await page.screenshot(path=str(raw), full_page=True)
            evidence = await item.collect_evidence(RuntimeError("échec"))
            assert [p.name for p in evidence] == ["echec.png"]
            assert evidence[0] == tmp_path / "evidence" / "D-1" / "echec.png"
            shot = await browser.screenshot(item, name="apres")
            masked, unmasked = evidence[0], raw
            for png in (masked, Path(shot["path"])):
                assert (await _pixels(shared, png, boxes["#identifiant"]))["black"] > 0.95
                assert (await _pixels(shared, png, boxes["#mdp"]))["black"] > 0.95
                assert (await _pixels(shared, png, boxes["#nom"]))["black"] < 0.2
            assert (await _pixels(shared, unmasked, boxes["#identifiant"]))["black"] < 0.2
            assert 0 < (await _pixels(shared, unmasked, boxes["#identifiant"]))["dark"] < 0.5
            await browser.click(item, css="button[type=submit]")  # the page now shows the identifiant
            result = await page.locator("#result").evaluate(in_document)
            shown = await browser.screenshot(item, name="texte")
            assert (await _pixels(shared, Path(shown["path"]), result))["black"] > 0.95
            await item.aclose()
        finally:
            await ctx.aclose()

    loop.run(body())


@pytest.mark.browser
def test_lanes_inherit_cookies_storage_and_url_from_run_level(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """A lane's context starts with the run-level cookies and sessionStorage, at the run-level page's URL."""
    async def body() -> None:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/login?user=marie")
            await browser.expect_text(ctx, text="Connecté")
            await browser.open_page(ctx, url=f"{server}/whoami")
            lane = ctx.for_lane()
            item = lane.for_item("1")
            who = await browser.extract_text(item, css="#who")  # no open: starts at the run page's URL
            assert who["text"] == "session=marie"
            assert (await browser.extract_text(item, css="#jeton"))["text"] == "J-marie"
            run_session, lane_session = ctx.peek(PAGE, "run"), lane.peek(PAGE, "lane")
            assert lane_session is not run_session
            assert lane_session.context is not run_session.context
            assert lane_session.page.url == f"{server}/whoami"
            await item.aclose()
            await lane.aclose()
            assert lane_session.page.is_closed() and not run_session.page.is_closed()
        finally:
            await ctx.aclose()

    loop.run(body())


@pytest.mark.browser
def test_two_lanes_fill_concurrently_in_separate_pages(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """Two lanes run at the same time, each in its own context and page, reused across its items."""
    async def body() -> None:
        ctx = await make_ctx()
        active, peak = 0, 0
        try:
            lanes = [ctx.for_lane(), ctx.for_lane()]

            async def work(lane: Context, names: list[str]) -> list[str]:
                nonlocal active, peak
                out = []
                for name in names:
                    item = lane.for_item(name)
                    active += 1
                    peak = max(peak, active)
                    await browser.open_page(item, url=f"{server}/form.html")
                    await browser.fill(item, fields={"Nom": name, "Quantité": len(name)})
                    await browser.click(item, css="button[type=submit]")
                    out.append((await _result(item))["nom"])
                    active -= 1
                    await item.aclose()
                return out

            got = await asyncio.gather(work(lanes[0], ["A1", "A2"]), work(lanes[1], ["B1", "B2"]))
            assert got == [["A1", "A2"], ["B1", "B2"]]
            assert peak == 2
            sessions = [lane.peek(PAGE, "lane") for lane in lanes]
            assert sessions[0].page is not sessions[1].page
            assert sessions[0].context is not sessions[1].context
            assert ctx.peek(PAGE, "run") is None
            for lane in lanes:
                await lane.aclose()
        finally:
            await ctx.aclose()

    loop.run(body())


@pytest.mark.browser
def test_trace_kept_for_failed_item_but_never_with_a_secret(loop: LoopThread, server: str, make_ctx: Any,
                                                           tmp_path: Path) -> None:
    """With trace on, a failed item keeps a trace, one that typed a secret none; no kept trace holds a secret."""
    secret = "tr4ce-secret-value"

    async def body() -> None:
        ctx = await make_ctx(trace=True)
        try:
            lane = ctx.for_lane()
            first = lane.for_item("T-1")
            await browser.open_page(first, url=f"{server}/form.html")
            await browser.fill(first, fields={"Nom": "Traced"})
            names = [p.name for p in await first.collect_evidence(RuntimeError("x"))]
            assert names == ["trace.zip", "echec.png"]
            with zipfile.ZipFile(tmp_path / "evidence" / "T-1" / "trace.zip") as z:
                assert any(b"Traced" in z.read(n) for n in z.namelist())
            second = lane.for_item("T-2")
            await browser.fill(second, fields={"Nom": "Deux", "Identifiant": Secret(secret, "t.id")})
            assert [p.name for p in await second.collect_evidence(RuntimeError("x"))] == ["echec.png"]
            third = lane.for_item("T-3")  # the secret is still typed in the page: the trace must not show it
            await browser.fill(third, fields={"Nom": "Trois"})
            await third.collect_evidence(RuntimeError("x"))
            kept = tmp_path / "evidence" / "T-3" / "trace.zip"
            if kept.exists():
                with zipfile.ZipFile(kept) as z:
                    assert not any(secret.encode() in z.read(n) for n in z.namelist())
            fourth = lane.for_item("T-4")  # leaves the page that held the secret
            await browser.open_page(fourth, url=f"{server}/table.html")
            await fourth.aclose()
            fifth = lane.for_item("T-5")  # tracing goes on, without screencast frames
            await browser.open_page(fifth, url=f"{server}/form.html")
            await browser.fill(fifth, fields={"Nom": "Cinq"})
            assert [p.name for p in await fifth.collect_evidence(RuntimeError("x"))] == ["trace.zip", "echec.png"]
            with zipfile.ZipFile(tmp_path / "evidence" / "T-5" / "trace.zip") as z:
                assert not any(n.endswith(".jpeg") for n in z.namelist())
                assert not any(secret.encode() in z.read(n) for n in z.namelist())
            await lane.aclose()
        finally:
            await ctx.aclose()

    loop.run(body())


@pytest.mark.browser
def test_download_saves_file_and_http_error_is_application_error(loop: LoopThread, server: str, make_ctx: Any,
                                                                 tmp_path: Path) -> None:
    """download saves the file in the run's downloads folder; a 500 page is an ApplicationError."""
    async def body() -> None:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/table.html")
            got = await browser.download(ctx, name="Télécharger le rapport")
            assert got["path"] == str(tmp_path / "downloads" / "rapport.csv")
            assert Path(got["path"]).read_text().startswith("numero;montant")
            with pytest.raises(ApplicationError, match="a répondu 500"):
                await browser.open_page(ctx, url=f"{server}/error500")
        finally:
            await ctx.aclose()

    loop.run(body())


@pytest.mark.browser
def test_run_owns_and_closes_its_chromium(loop: LoopThread, server: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a shared browser, Chromium starts on first use and closes with the run; a bad path is named."""
    async def body() -> None:
        ctx = Context(run_id="t", robot="t", robot_dir=tmp_path, run_dir=tmp_path)
        await browser.open_page(ctx, url=f"{server}/form.html")
        runtime = ctx.peek(RUNTIME, "run")
        assert runtime.browser.is_connected()
        await ctx.aclose()
        assert not runtime.browser.is_connected()
        monkeypatch.setenv("ROBOCORE_CHROMIUM", str(tmp_path / "pas-de-chromium"))
        bad = Context(run_id="t", robot="t", robot_dir=tmp_path, run_dir=tmp_path)
        with pytest.raises(ApplicationError, match="Chromium n'a pas pu démarrer"):
            await browser.open_page(bad, url=f"{server}/form.html")
        await bad.aclose()

    loop.run(body())


def test_values_are_converted_by_input_type() -> None:
    """Dates, numbers and booleans become the text an input of that type expects."""
    from robocore.actions._browser_values import to_text, truthy

    assert to_text(date(2026, 3, 4), "date") == "2026-03-04"
    assert to_text(date(2026, 3, 4), "text") == "04/03/2026"
    assert to_text(datetime(2026, 3, 4, 9, 30), "text") == "04/03/2026 09:30"
    assert to_text(datetime(2026, 3, 4, 9, 30), "datetime-local") == "2026-03-04T09:30"
    assert to_text(1500.0, "text") == "1500" and to_text(1234.56, "text") == "1234,56"
    assert to_text(1234.56, "number") == "1234.56" and to_text(1e20, "number") == "100000000000000000000"
    assert to_text("1 234,56", "number") == "1234.56" and to_text("14/03/2026", "date") == "2026-03-14"
    assert to_text(Secret("clair-1234"), "password") == "clair-1234" and to_text(None, "text") == ""
    assert truthy("Oui", "c") and not truthy("non", "c") and truthy(True, "c")
    with pytest.raises(BusinessError):
        truthy("peut-être", "c")
