"""The fields of one browser.fill on a page seen for the first time are looked for at once, and each is
still taken in its turn: a field that appears once an earlier one is filled is awaited, an ambiguous one
fails after the fields before it were filled (in the system Chromium, on small local pages)."""
# ruff: noqa: F811 - the fixtures imported from test_actions_browser are parameters here

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Locator

from robocore.actions import browser
from robocore.actions._browser_session import PAGE, RUNTIME
from robocore.errors import ApplicationError
from tests.integration.test_actions_browser import (  # noqa: F401 - the fixtures, shared with those tests
    LoopThread,
    _chromium_required,
    loop,
    make_ctx,
    server,
    shared,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("fields", "counts", "most"), [
    ({"First Name": "Ada", "Last Name": "Lovelace", "Address": "12 rue"}, 1, 1),
    ({"First Name": "Ada", "Comment": "tied", "Address": "12 rue"}, 1 + 3 * 2, 6)],
    ids=["beside-their-texts", "one-tied-label"])
def test_fields_of_a_new_form_are_looked_for_together(loop: LoopThread, server: str, make_ctx: Any,
                                                      monkeypatch: pytest.MonkeyPatch, fields: dict[str, str],
                                                      counts: int, most: int) -> None:
    """Fields beside their texts: one look for all of them (one count of tied labels, the texts beside
    fields in the same round-trip); with a tied label among them, each field is then probed, all at
    once (not one field after the other). Either way, all are then cached."""
    calls, in_flight, highest = [0], [0], [0]
    original = Locator.count

    async def counting(self: Locator) -> int:
        calls[0] += 1
        in_flight[0] += 1
        highest[0] = max(highest[0], in_flight[0])
        try:
            return await original(self)
        finally:
            in_flight[0] -= 1

    async def body() -> tuple[set[str], list[str]]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-siblings.html")
            monkeypatch.setattr(Locator, "count", counting)
            await browser.fill(ctx, fields=fields)
            page = ctx.peek(PAGE, "lane").page
            names = {"First Name": "first", "Address": "address", "Last Name": "last", "Comment": "comment"}
            values = [await page.input_value(f"[name={names[key]}]") for key in fields]
            return {name for (_, name) in ctx.peek(RUNTIME, "run").fields}, values
        finally:
            await ctx.aclose()

    cached, values = loop.run(body())
    assert cached == set(fields)
    assert values == list(fields.values())
    assert calls[0] == counts
    assert highest[0] >= most  # with a tied label: the 3 fields' tied-label levels (2 each) at once


def test_a_field_appearing_after_an_earlier_one_is_filled_is_awaited(loop: LoopThread, server: str,
                                                                     make_ctx: Any) -> None:
    """SIRET is absent when the fields are looked for together: its turn finds it once Nature is filled."""
    async def body() -> tuple[str, str, str]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-dependent.html")
            await browser.fill(ctx, fields={"Nature": "Société", "SIRET": "123 456 789 00012", "Commune": "Albi"},
                               timeout_ms=3000)
            page = ctx.peek(PAGE, "lane").page
            return (await page.input_value("#nature"), await page.input_value("#siret"),
                    await page.input_value("#commune"))
        finally:
            await ctx.aclose()

    assert loop.run(body()) == ("Société", "123 456 789 00012", "Albi")


def test_an_ambiguous_field_fails_in_its_turn(loop: LoopThread, server: str, make_ctx: Any) -> None:
    """The fields before it are filled, the ambiguity is the error, the fields after it are not filled."""
    async def body() -> tuple[str, str, str]:
        ctx = await make_ctx()
        try:
            await browser.open_page(ctx, url=f"{server}/find-dependent.html")
            with pytest.raises(ApplicationError) as err:
                await browser.fill(ctx, fields={"Nature": "Association", "Montant": "12", "Commune": "Rodez"},
                                   timeout_ms=3000)
            page = ctx.peek(PAGE, "lane").page
            return str(err.value), await page.input_value("#nature"), await page.input_value("#commune")
        finally:
            await ctx.aclose()

    message, nature, commune = loop.run(body())
    assert "Champ « Montant » ambigu" in message
    assert (nature, commune) == ("Association", "")
