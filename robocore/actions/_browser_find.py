"""From a field key to a Locator, as a person finds a field; and why nothing matched.

A key is either an explicit selector or the text a person reads next to the field:

- `css=form#f input.code` (or `css:…`), a CSS selector;
- `xpath=//input[@name='code']` (or `xpath:…`), an XPath;
- `role=combobox[name="Pays"]` (or `role=textbox`), an ARIA role and, optionally, its exact
  accessible name in double or single quotes;
- anything else is read as the field's label, tried level by level, the first level that
  matches deciding (two fields at that level are an ambiguity, never a silent first pick):
  1. a label tied to the field (`for=`, wrapping, `aria-labelledby`, `aria-label`), exact text;
  2. the same, loosely: case, spacing, no-break spaces, trailing " *" or " :", typographic or
     straight apostrophes and quotes;
  3. a label-like text (label, span, cell, div…, not inside a button or link) next to a single
     untied field: the field right of it, below it or, for a check box, left of it (nearest, from
     bounding boxes, no other text between), else the next field in document order within the
     same small block;
  4. a placeholder (exact, then loose), 5. an ARIA role and name (title included);
  6. a label or placeholder containing the key; 7. the key as a Playwright selector (bare CSS).

The level found for a key on a page is cached for the run (`Runtime.fields`) as a strategy
name that `build` turns back into a Locator without any round-trip (a field found beside its
text is remembered by its rank from that text, which a page moving its blocks around keeps, and
the text by its tag and rank among the texts of that tag, as cheap to find as `label:text-is(…)`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from robocore.actions._browser_errors import (
    FIELD,
    ambiguous_field,
    browser_error,
    field_not_found,
    guarded,
    invalid_key,
    not_found,
)
from robocore.errors import RobocoreError

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

T = TypeVar("T")

FIELD_ROLES = ("textbox", "combobox", "spinbutton", "searchbox", "listbox", "checkbox", "radio",
               "switch", "radiogroup", "group", "slider")
# levels in the order they decide; each probed with one count() (the texts beside fields: NEAR_JS), those up
# to "near" in one round-trip, the others in a second one only when none of those designated a field
STRONG = ("label", "label-loose", "near", "placeholder", "placeholder-loose", "role")
WEAK = ("label-partial", "placeholder-partial", "css")
APOSTROPHES, QUOTES = "'’‘ʼ′`´", "\"“”«»„‟"
LABEL_CSS = "label, span, td, th, div, p, b, strong, em, i, small, font, dt, dd, legend, li, h3, h4, h5, h6"
LABEL_LIKE, LABEL_TAGS = f"css={LABEL_CSS}", frozenset(LABEL_CSS.split(", "))
CONTROL = ("*[self::input[not(@type='hidden' or @type='submit' or @type='button' or @type='reset' "
           "or @type='image')] or self::select or self::textarea or @contenteditable='true' or "
           "@role='textbox' or @role='combobox' or @role='checkbox' or @role='switch' or @role='radio' "
           "or @role='spinbutton']")
POLL_S = 0.25  # when a label-like text is there but no field next to it yet
KIND_JS = """e => { const tag = e.tagName.toLowerCase(), role = (e.getAttribute('role') || '').toLowerCase();
  if (tag === 'select') return 'select';
  if (tag === 'input') return (e.getAttribute('type') || 'text').toLowerCase();
  if (tag === 'textarea' || e.isContentEditable) return 'text';
  if (tag === 'fieldset' || role === 'radiogroup' || role === 'group') return 'group';
  if (role === 'checkbox' || role === 'switch' || role === 'radio') return role;
  return 'text'; }"""
DESCRIBE_JS = """els => els.slice(0, 5).map(e => { const t = e.tagName.toLowerCase();
  if (e.id) return t + '#' + e.id;
  const n = e.getAttribute('name'); return n ? t + '[name=' + n + ']' : t; })"""
# The definitions of NEAR_JS and FIRST_LOOK_JS, with `ctrl` and `labelLike` in scope; `near(els)` gives,
# for each label-like text element of `els` (those named like one key), the entry described below.
NEAR_DEFS = """  const kindOf = """ + KIND_JS + """;
  const describe = e => { const t = e.tagName.toLowerCase(); if (e.id) return t + '#' + e.id;
    const n = e.getAttribute('name'); return n ? t + '[name=' + n + ']' : t; };
  const box = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 ? r : null; };
  const tied = c => (c.labels && c.labels.length > 0) || c.hasAttribute('aria-label')
    || c.hasAttribute('aria-labelledby') || !!c.closest('label');
  const axis = (name, e) => { const s = document.evaluate(name + '::' + ctrl, e, null,
    XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null); const a = [];
    for (let j = 0; j < s.snapshotLength; j++) a.push(s.snapshotItem(j)); return a; };
  let texts = null;
  const others = () => texts || (texts = Array.from(document.querySelectorAll(labelLike)).filter(u =>
    Array.from(u.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())).map(u => [u, box(u)])
    .filter(([u, b]) => b));
  const between = (t, c, tb, cb, dir) => others().some(([u, ub]) => u !== t && !u.contains(t) && !t.contains(u)
    && !u.contains(c) && (dir === 'right'
      ? ub.left >= tb.right - 2 && ub.right <= cb.left + 2 && ub.top < cb.bottom && ub.bottom > cb.top
      : ub.top >= tb.bottom - 2 && ub.bottom <= cb.top + 2 && ub.left < cb.right && ub.right > cb.left));
  const all = document.getElementsByTagName('*');
  const skip = 'button, a, select, option, [role=button], [role=link], [role=option], [role=tab], [role=menuitem]';
  const near = els => els.map((t, i) => {
    const tb = box(t); if (!tb || t.closest(skip)) return null;
    const after = axis('following', t).slice(0, 40), before = axis('preceding', t).reverse().slice(0, 4);
    let best = null;
    const consider = (c, k) => {
      if (tied(c) || t.contains(c)) return; const cb = box(c); if (!cb) return;
      const v = Math.min(tb.bottom, cb.bottom) - Math.max(tb.top, cb.top);
      const h = Math.min(tb.right, cb.right) - Math.max(tb.left, cb.left);
      let d = null, dir = null;
      if (k > 0 && cb.left >= tb.right - 4 && v > 0 && cb.left - tb.right <= 400) {
        d = cb.left - tb.right; dir = 'right'; }
      else if (k > 0 && cb.top >= tb.bottom - 4 && (h > 0 || Math.abs(cb.left - tb.left) < 24)
               && cb.top - tb.bottom <= 80) { d = cb.top - tb.bottom; dir = 'below'; }
      else if (k < 0 && ['checkbox', 'radio'].includes(kindOf(c)) && cb.right <= tb.left + 4 && v > 0
               && tb.left - cb.right <= 40) { d = tb.left - cb.right; dir = 'left'; }
      if (d === null || (best && best.d <= d)) return;
      if (dir !== 'left' && between(t, c, tb, cb, dir)) return;
      best = {c, k, d};
    };
    after.forEach((c, j) => consider(c, j + 1));
    before.forEach((c, j) => consider(c, -(j + 1)));
    if (!best && after.length) {  // no layout: the next field in the same small block
      const c = after[0], p = t.parentElement, g = p && p.parentElement;
      if (!tied(c) && box(c) && ((p && p.contains(c)) || (g && g.contains(c) && g !== document.body)))
        best = {c, k: 1, d: 0};
    }
    if (!best) return null;
    const c = best.c, same = els.slice(0, i).filter(u => u.tagName === t.tagName).length;
    return [i, best.k, kindOf(c), describe(c), Array.prototype.indexOf.call(all, c), t.tagName.toLowerCase(), same];
  });
"""
# For each label-like text element: the one untied field a person would take for it, as
# [index of the text, signed rank of the field after (+) or before (-) it in document order,
#  kind, description, identity, the text's tag, its index among the texts of that tag], or null.
NEAR_JS = "(els, [ctrl, labelLike]) => {\n" + NEAR_DEFS + "  return near(els);\n}"
# NEAR_JS for several keys at once (`prelocate`): for each regex source (`loose(key)`), near() of the
# label-like elements whose own text matches it, found as `_near_texts` finds them: Playwright's text
# search (its element text: text nodes and child elements' texts, script, noscript, style and head
# skipped, an input button's value; a match whose child element matches too is the child's). Null
# when the page has shadow roots, which that search enters and this one does not.
FIRST_LOOK_JS = "([sources, ctrl, labelLike]) => {\n" + NEAR_DEFS + """
  const walk = document.createTreeWalker(document, NodeFilter.SHOW_ELEMENT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) if (n.shadowRoot) return null;
  const skipped = e => e.nodeName === 'SCRIPT' || e.nodeName === 'NOSCRIPT' || e.nodeName === 'STYLE'
    || (document.head !== null && document.head.contains(e));
  const cache = new Map();
  const full = e => {
    let v = cache.get(e);
    if (v !== undefined) return v;
    v = '';
    if (!skipped(e)) {
      if (e instanceof HTMLInputElement && ['submit', 'button', 'reset'].includes(e.type)) v = e.value;
      else for (let c = e.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 3) v += c.nodeValue || ''; else if (c.nodeType === 1) v += full(c); }
    }
    cache.set(e, v);
    return v;
  };
  const candidates = Array.from(document.querySelectorAll(labelLike)).filter(e => !skipped(e));
  return sources.map(source => {
    const re = new RegExp(source, 'i');
    const matches = e => { re.lastIndex = 0; return re.test(full(e)); };
    return near(candidates.filter(e => matches(e) && !Array.from(e.children).some(matches)));
  });
}"""
# The texts a person could take for a field's label: every <label>, and for each field its
# tied labels, aria-label, placeholder, title and the text just before it.
LABELS_JS = """([ctrl]) => {
  const out = [], seen = new Set();
  const add = s => { s = (s || '').replace(/[ \\t\\r\\n]+/g, ' ').trim();
    if (s && s.length <= 80 && !seen.has(s)) { seen.add(s); out.push(s); } };
  document.querySelectorAll('label, legend').forEach(l => add(l.innerText || l.textContent));
  const s = document.evaluate('//' + ctrl, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
  for (let j = 0; j < s.snapshotLength && j < 300; j++) {
    const c = s.snapshotItem(j);
    add(c.getAttribute('aria-label')); add(c.getAttribute('placeholder')); add(c.getAttribute('title'));
    const by = c.getAttribute('aria-labelledby');
    if (by) by.split(/\\s+/).forEach(id => { const e = document.getElementById(id); if (e) add(e.textContent); });
    const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    w.currentNode = c; let n = w.previousNode(), k = 0;
    while (n && k++ < 20 && !n.textContent.trim()) n = w.previousNode();
    if (n && !(n.parentElement && n.parentElement.closest('script, style, option, button'))) add(n.textContent);
  }
  return out;
}"""


@dataclass
class Located:
    """A field found on the page: its locator, its kind (input type, select, group...) and how."""

    loc: Locator
    kind: str
    strategy: str
    cached: bool = False


def _chars(text: str) -> str:
    """A regex of `text` where each apostrophe or quote matches any of its straight or typographic forms."""
    out = []
    for ch in text:
        if ch in APOSTROPHES:
            out.append(f"[{re.escape(APOSTROPHES)}]")
        elif ch in QUOTES:
            out.append(f"[{re.escape(QUOTES)}]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def loose(name: str) -> re.Pattern[str]:
    """Text equal to `name` up to case, spacing, decorations (" *", " :") and apostrophe or quote style."""
    words = r"\s+".join(_chars(w) for w in name.replace("\u00a0", " ").split())
    return re.compile(rf"^[\s:*]*{words}[\s:*]*$", re.IGNORECASE)


def explicit(name: str) -> tuple[str, str] | None:
    """("css"|"xpath"|"role", selector) for an explicit key (`css=`, `xpath=`, `role=`, or with ":")."""
    match = re.match(r"^(css|xpath|role)\s*[=:]\s*(.+)$", name, re.DOTALL)
    return (match.group(1), match.group(2).strip()) if match else None


def _role_key(page: Page, spec: str) -> Locator:
    """`combobox[name="Pays"]`: get_by_role with an exact name; anything else as Playwright's role= engine."""
    match = re.fullmatch(r"""([a-z]+)\s*(?:\[\s*name\s*=\s*(["'])(.*)\2\s*\])?""", spec, re.DOTALL)
    if not match:
        return page.locator(f"role={spec}")
    role, _q, name = match.groups()
    if name is None:
        return page.get_by_role(role)  # type: ignore[arg-type]
    return page.get_by_role(role, name=name, exact=True)  # type: ignore[arg-type]


def _near_texts(page: Page, name: str) -> Locator:
    """Label-like elements whose own text is `name` (loosely)."""
    return page.get_by_text(loose(name)).and_(page.locator(LABEL_LIKE))


def _tagged_texts(page: Page, tag: str, name: str) -> Locator:
    """The elements of `_near_texts` with this tag, in the same order: what a field found beside its
    text is remembered by (`near:TAG:INDEX:RANK`), as cheap to find again as `label:text-is(…)`.

    `:text-matches` keeps, as `get_by_text` does, only the elements whose own text matches.
    """
    if tag not in LABEL_TAGS:
        raise ValueError(f"not a label-like tag: {tag!r}")
    source = json.dumps(loose(name).pattern, ensure_ascii=False)  # a CSS string: quotes and backslashes escaped
    return page.locator(f'{tag}:text-matches({source}, "i")')


def build(page: Page, strategy: str, name: str) -> Locator:
    """The locator of one field-finding strategy ("+visible" keeps only visible matches)."""
    visible = strategy.endswith("+visible")
    base = strategy.removesuffix("+visible")
    if base == "label":
        loc = page.get_by_label(name, exact=True)
    elif base == "label-loose":
        loc = page.get_by_label(loose(name))
    elif base == "label-partial":
        loc = page.get_by_label(name)
    elif base == "placeholder":
        loc = page.get_by_placeholder(name, exact=True)
    elif base == "placeholder-loose":
        loc = page.get_by_placeholder(loose(name))
    elif base == "placeholder-partial":
        loc = page.get_by_placeholder(name)
    elif base == "role":
        roles = [page.get_by_role(r, name=name, exact=True) for r in FIELD_ROLES]  # type: ignore[arg-type]
        loc = functools.reduce(lambda a, b: a.or_(b), roles)
    elif base.startswith("near:"):
        _near, tag, index, rank = base.split(":")
        k = int(rank)
        step = f"following::{CONTROL}[{k}]" if k > 0 else f"preceding::{CONTROL}[{-k}]"
        loc = _tagged_texts(page, tag, name).nth(int(index)).locator(f"xpath={step}")
    elif base == "role-key":
        loc = _role_key(page, (explicit(name) or ("", name))[1])
    elif base == "key":
        kind, selector = explicit(name) or ("css", name)
        loc = page.locator(f"{kind}={selector}")
    else:  # "css": the key as a Playwright selector, as given
        loc = page.locator(name)
    return loc.filter(visible=True) if visible else loc


async def _count(loc: Locator) -> int:
    """How many elements match; -1 when the selector is not valid (that strategy does not apply)."""
    from playwright.async_api import Error

    try:
        return await loc.count()
    except Error:
        return -1


async def _describe(loc: Locator) -> list[str]:
    """Short names of the matching elements (tag#id or tag[name=…]) for an ambiguity message."""
    from playwright.async_api import Error

    try:
        return list(await loc.evaluate_all(DESCRIBE_JS))
    except Error:
        return []


async def page_labels(page: Page) -> list[str]:
    """The label-like texts of the page's fields (empty when the page cannot answer)."""
    from playwright.async_api import Error

    try:
        return list(await asyncio.wait_for(page.evaluate(LABELS_JS, [CONTROL]), 5))
    except (TimeoutError, Error):
        return []


async def _none() -> None:
    """Nothing, awaited in place of the texts beside fields when the key is explicit (css=, role=…)."""
    return None


def designated(page: Page, name: str, beside: list[list[object] | None]) -> tuple[str, str] | None:
    """The field next to a label-like text named `name` (NEAR_JS entries): (strategy, kind), None, or an ambiguity."""
    found = [f for f in beside if f]
    distinct = {f[4]: f for f in found}
    if len(distinct) > 1:
        raise ambiguous_field(name, page, len(distinct), [str(f[3]) for f in distinct.values()])
    if not distinct:
        return None
    _index, rank, kind, _desc, _id, tag, same_tag = found[0]
    # remembered relative to its text, never by its form name or id: pages that move their
    # fields around or draw new names on each load (the RPA Challenge, shuffled portals) keep a
    # field beside its text, not its name (a stale name would fill nothing, or another field)
    return f"near:{tag}:{same_tag}:{rank}", str(kind)


class Finder:
    """One search for a field on a page: probe the levels (two round-trips at most), wait with the remaining time."""

    def __init__(self, page: Page, name: str, ms: int) -> None:
        self.page, self.name, self.ms = page, name, ms
        self.weak_ambiguity: tuple[int, Locator | None] = (0, None)
        key = explicit(name)
        if key is None:
            self.levels: tuple[str, ...] = STRONG + WEAK
        else:
            self.levels = ("role-key",) if key[0] == "role" else ("key",)

    def _loc(self, level: str) -> Locator:
        return _near_texts(self.page, self.name) if level == "near" else build(self.page, level, self.name)

    async def _one(self, strategy: str, loc: Locator, n: int) -> tuple[str, Locator] | None:
        """The strategy if it designates one field (alone, or the only visible one); ambiguity raises."""
        if n == 1:
            return strategy, loc
        if n > 1:
            visible = loc.filter(visible=True)
            shown = await _count(visible)
            if shown == 1:
                return strategy + "+visible", visible
            if strategy not in WEAK:
                raise ambiguous_field(self.name, self.page, n, await _describe(visible if shown > 1 else loc))
            if n > self.weak_ambiguity[0]:
                self.weak_ambiguity = (n, loc)
        return None

    async def _beside(self, texts: Locator) -> list[list[object] | None] | None:
        """NEAR_JS on the label-like texts named like the key: one entry per text (None: not evaluable)."""
        from playwright.async_api import Error

        try:
            return list(await texts.evaluate_all(NEAR_JS, [CONTROL, LABEL_CSS]))
        except Error:
            return None

    async def _counted(self, locs: list[Locator], stage: range) -> tuple[list[int], list[list[object] | None] | None]:
        """One round-trip: the levels of `stage` counted, and the texts beside fields looked at if among them."""
        near_at = self.levels.index("near") if "near" in self.levels else -1
        others = asyncio.gather(*(_count(locs[at]) for at in stage if at != near_at))
        counts, beside = await asyncio.gather(others, self._beside(locs[near_at]) if near_at in stage else _none())
        if near_at in stage:
            counts.insert(near_at - stage.start, -1)
        return counts, beside

    async def probe(self) -> tuple[Located | None, list[Locator], bool]:
        """One round: the field if a level designates it; else the locators worth waiting for,
        and whether a label-like text is already there with no field next to it (then poll).

        Two round-trips at most: the tied labels and the texts beside fields first (one of them
        designates most fields), then, only when none did, the later levels. The levels decide in
        their order either way.
        """
        self.weak_ambiguity = (0, None)
        locs = [self._loc(level) for level in self.levels]
        cut = self.levels.index("near") + 1 if "near" in self.levels else len(self.levels)
        counts: list[int] = []
        polled = False
        for stage in (range(0, cut), range(cut, len(self.levels))):
            if not stage:
                continue
            counted, beside = await self._counted(locs, stage)
            counts += counted
            for at in stage:
                level, loc, n = self.levels[at], locs[at], counts[at]
                if level in ("key", "role-key") and n < 0:
                    raise invalid_key(self.name, self.page)
                if level == "near":
                    n = counts[at] = len(beside) if isinstance(beside, list) else -1
                    near = designated(self.page, self.name, beside) if isinstance(beside, list) and n > 0 else None
                    if near is not None:
                        strategy, kind = near
                        return Located(build(self.page, strategy, self.name), kind, strategy), [], False
                    polled = n != 0  # texts with no field beside them yet, or not evaluable now: look again soon
                    continue
                one = await self._one(level, loc, n)
                if one is not None:
                    strategy, chosen = one
                    kind = await guarded(chosen.evaluate(KIND_JS, timeout=self.ms), self.page,
                                         lambda e: not_found(FIELD, self.name, self.page, self.ms, e))
                    return Located(chosen, kind, strategy), [], False
        many, weak = self.weak_ambiguity
        if weak is not None:
            raise ambiguous_field(self.name, self.page, many, await _describe(weak))
        return None, [loc for loc, n in zip(locs, counts, strict=True) if n == 0], polled

    async def run(self, wait: bool) -> Located | None:
        """The field; None when `wait` is False and nothing matches now; else not found after the timeout
        (one timeout in all: the levels are probed, then awaited with the time left)."""
        from playwright.async_api import Error
        from playwright.async_api import TimeoutError as PWTimeout

        deadline = time.monotonic() + self.ms / 1000
        while True:
            located, waits, polled = await self.probe()
            if located is not None or not wait:
                return located
            left = deadline - time.monotonic()
            if left <= 0:
                raise field_not_found(self.name, self.page, self.ms, await page_labels(self.page))
            budget = min(left, POLL_S) if polled else left
            if not waits:
                await asyncio.sleep(budget)
                continue
            either = functools.reduce(lambda a, b: a.or_(b), waits)
            try:
                await either.first.wait_for(state="attached", timeout=max(1, int(budget * 1000)))
            except PWTimeout:
                if not polled:
                    raise field_not_found(self.name, self.page, self.ms, await page_labels(self.page)) from None
            except Error as exc:
                raise browser_error(exc, self.page) from None


async def locate(page: Page, cache: dict[tuple[str, str], tuple[str, str]], page_key: str, name: str,
                 ms: int, wait: bool = True) -> Located | None:
    """The field `name` on `page` (cached strategy first); None only when `wait` is False."""
    key = (page_key, name)
    if key in cache:
        strategy, kind = cache[key]
        return Located(build(page, strategy, name), kind, strategy, cached=True)
    located = await Finder(page, name, ms).run(wait)
    if located is not None:
        cache[key] = (located.strategy, located.kind)
    return located


async def prelocate(page: Page, cache: dict[tuple[str, str], tuple[str, str]], page_key: str, names: list[str],
                    ms: int) -> None:
    """Look for several fields at once (two round-trips for all, not three each), caching those found.

    First, in one round-trip, whether any of the keys is a tied label (counted together) and the
    texts beside fields for every key (FIRST_LOOK_JS); with no tied label, each key that a text
    beside a field designates is decided as `Finder` would decide it. The other keys (explicit
    ones, tied labels, placeholders and the later levels) are then probed together, each as
    `Finder` probes one.
    Each field is then taken in its turn as a cached one (`locate`): a field absent, ambiguous or
    invalid now is not cached, and its turn finds it (waiting) or says why, as without this.
    """
    from playwright.async_api import Error

    async def one(name: str) -> None:
        try:
            located, _waits, _polled = await Finder(page, name, ms).probe()
        except (RobocoreError, Error):  # said in the field's turn, after the fields before it are filled
            return
        if located is not None:
            cache.setdefault((page_key, name), (located.strategy, located.kind))

    todo = [name for name in dict.fromkeys(names) if (page_key, name) not in cache]
    if len(todo) < 2:
        return
    for name, near in zip(todo, await first_look(page, todo), strict=True):
        if near is not None:
            cache.setdefault((page_key, name), near)
    await asyncio.gather(*(one(name) for name in todo if (page_key, name) not in cache))


async def first_look(page: Page, names: list[str]) -> list[tuple[str, str] | None]:
    """For each key, (strategy, kind) when no key is a tied label and a text beside one field designates it."""
    from playwright.async_api import Error

    keys = [name for name in names if explicit(name) is None]
    if not keys:
        return [None] * len(names)
    tied = functools.reduce(lambda a, b: a.or_(b), [build(page, level, name) for name in keys
                                                    for level in ("label", "label-loose")])
    try:
        counted, looks = await asyncio.gather(
            _count(tied), page.evaluate(FIRST_LOOK_JS, [[loose(k).pattern for k in keys], CONTROL, LABEL_CSS]))
    except Error:
        return [None] * len(names)
    if counted != 0 or not isinstance(looks, list):
        return [None] * len(names)
    found: dict[str, tuple[str, str] | None] = {}
    for name, beside in zip(keys, looks, strict=True):
        try:
            found[name] = designated(page, name, beside) if beside else None
        except RobocoreError:  # ambiguous: said in the field's turn
            found[name] = None
    return [found.get(name) for name in names]


async def on_field(page: Page, cache: dict[tuple[str, str], tuple[str, str]], page_key: str, name: str, ms: int,
                   op: Callable[[Located], Awaitable[T]]) -> T:
    """Find a field and run `op` on it; a stale cached strategy is resolved again once."""
    from playwright.async_api import Error
    from playwright.async_api import TimeoutError as PWTimeout

    located = await locate(page, cache, page_key, name, ms)
    if located is None:
        raise not_found(FIELD, name, page, ms)
    try:
        return await op(located)
    except PWTimeout as exc:
        if not located.cached:
            raise not_found(FIELD, name, page, ms, exc) from None
        cache.pop((page_key, name), None)
        again = await locate(page, cache, page_key, name, ms, wait=False)
        if again is None or (again.strategy, again.kind) == (located.strategy, located.kind):
            raise not_found(FIELD, name, page, ms, exc) from None
        return await guarded(op(again), page, lambda e: not_found(FIELD, name, page, ms, e))
    except Error as exc:
        raise browser_error(exc, page) from None
