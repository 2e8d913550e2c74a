"""Fields found as a person finds them (sibling and neighbouring labels, typography, explicit keys),
and a "not found" that lists the page's labels — in the system Chromium, on small local pages."""
# ruff: noqa: F811 - the fixtures imported from test_actions_browser are parameters here

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Locator

from robocore.actions import browser
from robocore.actions._browser_errors import nearest, shown
from robocore.actions._browser_find import Finder, explicit, first_look, loose
from robocore.actions._browser_session import PAGE, RUNTIME
from robocore.context import Context
from robocore.errors import ApplicationError
from robocore.i18n import use_language
from tests.integration.test_actions_browser import (  # noqa: F401 - the fixtures, shared with those tests
    LoopThread,
    _chromium_required,
    loop,
    make_ctx,
    server,
    shared,
)

pytestmark = pytest.mark.browser


async def _submit(ctx: Context) -> dict[str, Any]:
    """Submit the page's form and read the JSON it shows."""
    await browser.click(ctx, css="button[type=submit]")
    return json.loads((await browser.extract_text(ctx, css="#result"))["text"])


def _strategies(ctx: Context) -> dict[str, str]:
    """Field key -> the strategy that found it (the run's cache)."""
    return {name: s for (_, name), (s, _) in ctx.peek(RUNTIME, "run").fields.items()}


def test_fill_finds_sibling_labels(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """Labels beside their inputs (no for=, not wrapping) find them: right of, below, check box on the left."""
    async def body() -> tuple[dict[str, Any], dict[str, str]]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-siblings.html")
            await browser.fill(ctx, fields={
                "First Name": "Ada", "Last Name": "Lovelace", "company name": "Analytical Engines",
                "Role in Company": "Developer", "Send me the newsletter": True, "Address": "12 rue des Lilas",
                "Comment": "tied label still first", "Nickname": "Ada L."})
            assert await ctx.peek(PAGE, "lane").page.input_value("#nick") == "Ada L."
            return await _submit(ctx), _strategies(ctx)
        finally:
            await ctx.aclose()

    got, strategies = loop.run(body())
    assert got == {"first": "Ada", "last": "Lovelace", "company": "Analytical Engines", "role": "Developer",
                   "news": "on", "address": "12 rue des Lilas", "comment": "tied label still first"}
    assert strategies["Comment"] == "label"
    assert strategies["Nickname"] == "near:label:0:1"
    assert all(strategies[k].startswith("near:") for k in ("First Name", "Last Name", "Address",
                                                           "Send me the newsletter"))


def test_fields_moved_and_renamed_after_each_submission_are_found_again(loop: LoopThread, server: str,
                                                                         make_ctx: Any) -> None:
    """As on the RPA Challenge: after each submission the blocks move and the inputs get new names and
    ids; the fields found beside their sibling labels are still the right ones, round after round."""
    rows = [{"First Name": f"P{i}", "Last Name": f"N{i}", "Company Name": f"S{i}", "Role in Company": "Agent",
             "Address": f"{i} rue", "Email": f"a{i}@x.fr", "Phone Number": f"0{i}"} for i in range(3)]

    async def body() -> list[dict[str, str]]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-shuffled.html")
            await browser.click(ctx, role="button", name="Start")
            for row in rows:
                await browser.fill(ctx, fields=row, timeout_ms=3000)
                await browser.click(ctx, role="button", name="Submit")
            entries: list[dict[str, str]] = await ctx.peek(PAGE, "lane").page.evaluate("challengeEntries()")
            # remembered beside their texts, not by the names the page draws again after each submission
            assert all(_strategies(ctx)[name].startswith("near:") for name in rows[0])
            return entries
        finally:
            await ctx.aclose()

    entries = loop.run(body())
    assert entries == [{"first": r["First Name"], "last": r["Last Name"], "company": r["Company Name"],
                        "role": r["Role in Company"], "address": r["Address"], "email": r["Email"],
                        "phone": r["Phone Number"]} for r in rows]


def test_select_and_check_by_sibling_label(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """select and check take the same keys as fill."""
    async def body() -> dict[str, Any]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-siblings.html")
            assert (await browser.select(ctx, field="Role in Company", value="Manager"))["value"] == "Manager"
            await browser.check(ctx, field="Send me the newsletter")
            return await _submit(ctx)
        finally:
            await ctx.aclose()

    got = loop.run(body())
    assert (got["role"], got["news"]) == ("Manager", "on")


def test_fill_finds_neighbours_in_layout(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """A table cell's text finds the input in the next cell; a grid's text finds the input below it,
    not the next one in document order."""
    async def body() -> dict[str, Any]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-layout.html")
            await browser.fill(ctx, fields={
                "Numéro de dossier": "D-2026-001", "Montant": "1 234,56", "Type": "Formation",
                "Observations": "RAS", "Code postal": "31000", "Commune": "Toulouse", "Pays": "Belgique"})
            return await _submit(ctx)
        finally:
            await ctx.aclose()

    got = loop.run(body())
    assert got == {"dossier": "D-2026-001", "montant": "1 234,56", "type": "Formation", "observations": "RAS",
                   "cp": "31000", "commune": "Toulouse", "pays": "Belgique"}


def test_fill_matches_typography_aria_placeholder_and_explicit_keys(loop: LoopThread, server: str,
                                                                   make_ctx: Any) -> None:
    """Straight apostrophes find typographic ones, spaces find no-break spaces; aria-label, placeholder,
    css=, css:, xpath= and role=ROLE[name="…"] keys work."""
    async def body() -> tuple[dict[str, Any], str]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-typography.html")
            await browser.fill(ctx, fields={
                "Nom d'utilisateur": "marie", "Mot de passe": "pw-1",
                "Numéro de client": "C-9", "Code d'accès": "A-1", "Téléphone portable": "0600000000",
                "Rechercher une commune": "Albi", 'role=combobox[name="Pays"]': "Belgique",
                "css=input.interne": "X-1"})
            page = ctx.peek(PAGE, "lane").page
            await browser.fill(ctx, fields={"xpath=//input[@data-champ='code-interne']": "X-2"})
            by_xpath = await page.input_value("input.interne")
            await browser.fill(ctx, fields={"css:input[name=client]": "C-10"})
            return await _submit(ctx), by_xpath
        finally:
            await ctx.aclose()

    got, by_xpath = loop.run(body())
    assert by_xpath == "X-2"
    assert got == {"utilisateur": "marie", "mdp": "pw-1", "client": "C-10", "acces": "A-1",
                   "tel": "0600000000", "recherche": "Albi", "pays": "Belgique", "interne": "X-2"}


def test_not_found_lists_the_labels_with_their_exact_characters(loop: LoopThread, server: str,
                                                                make_ctx: Any) -> None:
    """After the timeout, the error lists the page's labels nearest to the key (typographic apostrophes
    and no-break spaces shown), the closest one, and the key syntaxes — in French and English."""
    async def body() -> tuple[str, str]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-typography.html")
            with pytest.raises(ApplicationError) as fr:
                await browser.fill(ctx, fields={"Nom d'usager": "marie"}, timeout_ms=300)
            with use_language("en"), pytest.raises(ApplicationError) as en:
                await browser.select(ctx, field="Numero client", value="x", timeout_ms=300)
            return str(fr.value), str(en.value)
        finally:
            await ctx.aclose()

    french, english = loop.run(body())
    assert french.startswith(f"Champ « Nom d'usager » introuvable sur {server}/find-typography.html (délai 0,3 s)")
    assert "libellés de la page : « Nom d’utilisateur » (’ U+2019)" in french
    assert "le plus proche : « Nom d’utilisateur » (’ U+2019)" in french
    assert "« Numéro⍽de⍽client » (⍽ U+00A0)" in french and "« Rechercher une commune »" in french
    assert 'css=…, xpath=… ou role=textbox[name="…"]' in french
    assert english.startswith(f"Field “Numero client” not found on {server}/find-typography.html (timeout 0.3 s)")
    assert "labels on the page: « Numéro⍽de⍽client » (⍽ U+00A0)" in english
    assert "closest: « Numéro⍽de⍽client »" in english


def test_ambiguous_fields_are_named_not_picked(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """Two fields matching at the same level (tied labels, or texts beside inputs) are an error naming both."""
    async def body() -> tuple[str, str]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-ambiguous.html")
            with pytest.raises(ApplicationError) as tied:
                await browser.fill(ctx, fields={"Date": "01/02/2026"})
            with pytest.raises(ApplicationError) as near:
                await browser.fill(ctx, fields={"Montant": "12"})
            return str(tied.value), str(near.value)
        finally:
            await ctx.aclose()

    tied, near = loop.run(body())
    assert "Champ « Date » ambigu" in tied and "input#d1, input#d2" in tied
    assert "Champ « Montant » ambigu" in near and "input[name=montant_ht], input[name=montant_ttc]" in near


def test_invalid_explicit_key_fails_at_once(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """A css=/xpath= key that is not a valid selector is said so, without waiting for the timeout."""
    async def body() -> list[str]:
        ctx = await make_ctx()
        out = []
        try:
            await browser.open_page(ctx, url=f"{server}/find-typography.html")
            for key in ("css=input[[", "xpath=//input[@"):
                with pytest.raises(ApplicationError) as err:
                    await browser.fill(ctx, fields={key: "x"}, timeout_ms=60_000)
                out.append(str(err.value))
        finally:
            await ctx.aclose()
        return out

    css, xpath = loop.run(body(), timeout=30)
    assert css.startswith("La clé de champ « css=input[[ » n'est pas un sélecteur valide")
    assert xpath.startswith("La clé de champ « xpath=//input[@ » n'est pas un sélecteur valide")


def test_text_without_a_field_beside_it_is_not_a_label(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """A text next to a plain value (or to a field that has its own label) finds nothing."""
    async def body() -> str:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-siblings.html")
            with pytest.raises(ApplicationError) as err:
                await browser.fill(ctx, fields={"Reference": "R-13"}, timeout_ms=300)
            return str(err.value)
        finally:
            await ctx.aclose()

    message = loop.run(body())
    assert message.startswith("Champ « Reference » introuvable")


def test_late_field_beside_a_present_text_is_awaited(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """A text already on the page whose input appears later: the field is found when it comes."""
    async def body() -> str:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-late.html")
            await browser.fill(ctx, fields={"Ville": "Albi"})
            return str(await ctx.peek(PAGE, "lane").page.input_value("#ville"))
        finally:
            await ctx.aclose()

    assert loop.run(body()) == "Albi"


def test_sibling_field_found_once_per_page_then_cached(loop: LoopThread, server: str, make_ctx: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The next item on the same page fills a sibling-labelled field with no lookup round-trip."""
    calls: list[str] = []
    original = Locator.count

    async def counting(self: Locator) -> int:
        calls.append("count")
        return await original(self)

    async def body() -> dict[str, Any]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-layout.html")
            await browser.fill(ctx, fields={"Commune": "Albi", "Montant": "1"})
            monkeypatch.setattr(Locator, "count", counting)
            await browser.open_page(ctx, url=f"{server}/find-layout.html?second")
            await browser.fill(ctx, fields={"Commune": "Rodez", "Montant": "2"})
            return await _submit(ctx)
        finally:
            await ctx.aclose()

    got = loop.run(body())
    assert calls == []
    assert (got["commune"], got["montant"], got["cp"]) == ("Rodez", "2", "")


def test_text_beside_a_field_is_remembered_among_the_texts_of_its_tag(loop: LoopThread, server: str,
                                                                        make_ctx: Any) -> None:
    """The same text in a paragraph with nothing beside it, then in the cell beside the input: the
    field is remembered by the cell (first of its tag) and found again from the cache."""
    async def body() -> tuple[str, dict[str, Any], list[Any], list[Any]]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-tags.html")
            await browser.fill(ctx, fields={"Montant": "1"})
            await browser.fill(ctx, fields={"Montant": "2"})  # cached strategy
            page = ctx.peek(PAGE, "lane").page
            looked = await first_look(page, ["Montant", "Autre"])
            await page.evaluate("document.body.appendChild(document.createElement('div')).attachShadow({mode: 'open'})")
            shadowed = await first_look(page, ["Montant", "Autre"])  # shadow roots: left to each field's search
            return _strategies(ctx)["Montant"], await _submit(ctx), looked, shadowed
        finally:
            await ctx.aclose()

    strategy, got, looked, shadowed = loop.run(body())
    assert strategy == "near:td:0:1"
    assert got == {"montant": "2"}
    assert looked == [("near:td:0:1", "text"), None]
    assert shadowed == [None, None]


FIRST_LOOK_PAGES = {
    "find-siblings.html": ["First Name", "Last Name", "company name", "Role in Company", "Send me the newsletter",
                           "Address", "Comment", "Nickname", "Reference"],
    "find-layout.html": ["Numéro de dossier", "Montant", "Type", "Statut", "Observations", "Code postal", "Commune",
                         "Pays"],
    "find-typography.html": ["Nom d'utilisateur", "Mot de passe", "Numéro de client", "Code d'accès",
                             "Téléphone portable", "Rechercher une commune"],
    "find-shuffled.html": ["First Name", "Last Name", "Company Name", "Role in Company", "Address", "Email",
                           "Phone Number"],
    "find-tags.html": ["Montant"],
}


@pytest.mark.parametrize("page_name", sorted(FIRST_LOOK_PAGES))
def test_the_first_look_at_several_fields_decides_as_the_search_of_each_field(
        loop: LoopThread, server: str, make_ctx: Any, page_name: str) -> None:
    """prelocate's one-round-trip look decides a field only as the search of that field alone would:
    the same text beside the same field (strategy and kind); nothing when any key is a tied label."""
    keys = FIRST_LOOK_PAGES[page_name]

    async def body() -> tuple[dict[str, tuple[str, str] | None], list[tuple[str, str] | None],
                              list[tuple[str, str] | None]]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/{page_name}")
            if page_name == "find-shuffled.html":
                await browser.click(ctx, role="button", name="Start")
            page = ctx.peek(PAGE, "lane").page
            alone: dict[str, tuple[str, str] | None] = {}
            for key in keys:
                try:
                    located, _waits, _polled = await Finder(page, key, 1000).probe()
                except ApplicationError:
                    located = None
                alone[key] = (located.strategy, located.kind) if located else None
            beside = [key for key in keys if alone[key] is None or alone[key][0].startswith("near:")]
            return alone, await first_look(page, beside), await first_look(page, keys)
        finally:
            await ctx.aclose()

    alone, together, with_tied = loop.run(body())
    beside = [key for key in keys if alone[key] is None or alone[key][0].startswith("near:")]
    assert together == [alone[key] if alone[key] and alone[key][0].startswith("near:") else None for key in beside]
    assert sum(1 for found in together if found) >= 1
    tied = any(alone[key] and alone[key][0].startswith("label") for key in keys)
    assert with_tied == ([None] * len(keys) if tied else together)


def test_key_helpers() -> None:
    """Explicit key prefixes, the loose match and how a label is shown."""
    assert explicit("css=input.code") == ("css", "input.code")
    assert explicit("xpath: //input") == ("xpath", "//input")
    assert explicit('role=combobox[name="Pays"]') == ("role", 'combobox[name="Pays"]')
    assert explicit("Nom d'utilisateur") is None and explicit("Role: admin") is None
    pattern = loose("Nom d'utilisateur")
    assert pattern.search("nom d’utilisateur :") and pattern.search("Nom\u00a0d'utilisateur *")
    assert not pattern.search("Nom d'utilisateur principal")
    assert shown("Nom d’utilisateur") == "« Nom d’utilisateur » (’ U+2019)"
    assert shown("N°\u00a0client") == "« N°⍽client » (⍽ U+00A0)"
    assert nearest("Prenom", ["Nom", "Prénom", "Ville"], 2) == ["Prénom", "Nom"]
