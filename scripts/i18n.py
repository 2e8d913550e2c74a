"""Keep the translation catalogues (robocore/locale) in step with the code, with Babel.

    python scripts/i18n.py extract   # rewrite robocore/locale/robocore.pot, merge it into each .po
    python scripts/i18n.py compile   # write each .mo from its .po
    python scripts/i18n.py check     # exit 1 when a message lacks a translation or a .mo is stale
    python scripts/i18n.py translate fr FILE.json  # set translations {msgid: text} (clears fuzzy)

`make i18n` runs extract then compile. Workflow: write `_("English text {name}", name=…)` in the
code, run `make i18n`, translate the new entries of `robocore/locale/fr/LC_MESSAGES/robocore.po`
(they are listed by `check`), run `make i18n` again and commit the .pot, the .po and the .mo
(installed packages read the .mo). The English catalogue is filled with the English source
(identity) by `extract`; edit an English msgstr only to polish a wording without touching code.

What is extracted is what `babel.cfg` maps (Python under robocore/, the Jinja2 templates of the
pages) with the keywords of `KEYWORDS` (`N_` marks texts translated where they are shown: the CLI's
help, the API's OpenAPI summaries); the same by hand:
`pybabel extract -F babel.cfg -k N_ -k lazy_gettext -k _l -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2
-k lazy_npgettext:1c,2,3 -o robocore/locale/robocore.pot robocore`.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

from robocore.i18n import placeholders

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "robocore"
LOCALE = SOURCE / "locale"
MAPPING = ROOT / "babel.cfg"
DOMAIN = "robocore"
LANGUAGES = ("fr", "en")
SOURCE_LANGUAGE = "en"  # msgids are English: its catalogue starts as the identity
KEYWORDS: dict[str, Any] = dict(DEFAULT_KEYWORDS, N_=None, lazy_gettext=None, _l=None, lazy_ngettext=(1, 2),
                                lazy_pgettext=((1, "c"), 2), lazy_npgettext=((1, "c"), 2, 3))
HEADER = ("# Robocore's messages: English source, French first (robocore.i18n).\n"
          "# Written by `python scripts/i18n.py extract` (make i18n); translate in the .po files.\n#")
# gettext's classic forms: one for 0 and 1 in French (CLDR's third French form, for millions, is not worth
# a third string in every message)
PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);", "en": "nplurals=2; plural=(n != 1);"}
_DATES = ('"POT-Creation-Date:', '"PO-Revision-Date:')


def template(source: Path = SOURCE, mapping: Path = MAPPING) -> Catalog:
    """Every message of the code and templates under `source`, as a template catalogue."""
    with mapping.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = Catalog(project="robocore", domain=DOMAIN, fuzzy=False, charset="utf-8", header_comment=HEADER,
                      copyright_holder="Robocore contributors")
    prefix = source.name
    for filename, lineno, message, comments, context in extract_from_dir(
            source, method_map, options_map, keywords=KEYWORDS, comment_tags=("Translators:",),
            strip_comment_tags=True):
        catalog.add(message, None, [(f"{prefix}/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(locale: Path, lang: str) -> Path:
    return locale / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=120, sort_output=True, ignore_obsolete=True, include_lineno=False)
    return out.getvalue()


def _write_if_changed(path: Path, content: bytes) -> bool:
    """Write `content` unless the file differs from it only by its dates (no churn in git)."""
    def undated(data: bytes) -> list[str]:
        return [line for line in data.decode("utf-8").splitlines() if not line.startswith(_DATES)]
    if path.exists() and undated(path.read_bytes()) == undated(content):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return True


def _read_po(path: Path, lang: str) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def _identity(catalog: Catalog) -> None:
    """The source language's catalogue: every untranslated or fuzzy entry gets the English source."""
    for message in catalog:
        if not message.id or (_translated(message) and not message.fuzzy):
            continue
        message.string = message.id if isinstance(message.id, str) else tuple(message.id)
        message.flags.discard("fuzzy")


def extract(source: Path = SOURCE, locale: Path = LOCALE) -> list[str]:
    """Rewrite the .pot and merge it into each language's .po; the files changed."""
    pot = template(source)
    changed = [str(locale / f"{DOMAIN}.pot")] if _write_if_changed(locale / f"{DOMAIN}.pot", _po_bytes(pot)) else []
    for lang in LANGUAGES:
        path = po_path(locale, lang)
        if path.exists():
            catalog = _read_po(path, lang)
            catalog.update(pot, update_creation_date=False)
        else:
            catalog = Catalog(locale=lang, domain=DOMAIN, project="robocore", fuzzy=False, charset="utf-8",
                              header_comment=HEADER, copyright_holder="Robocore contributors")
            catalog.update(pot)
        catalog.mime_headers = [("Plural-Forms", PLURAL_FORMS[lang])]
        if lang == SOURCE_LANGUAGE:
            _identity(catalog)
        if _write_if_changed(path, _po_bytes(catalog)):
            changed.append(str(path))
    return changed


def compile_all(locale: Path = LOCALE) -> list[str]:
    """Write each language's .mo from its .po (fuzzy entries left out); the files written."""
    written = []
    for lang in LANGUAGES:
        catalog = _read_po(po_path(locale, lang), lang)
        out = io.BytesIO()
        write_mo(out, catalog, use_fuzzy=False)
        mo = po_path(locale, lang).with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != out.getvalue():
            mo.write_bytes(out.getvalue())
            written.append(str(mo))
    return written


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return bool(strings) and all(strings)


def _key(message: Message) -> tuple[str | None, Any]:
    return message.context, message.id if isinstance(message.id, str) else tuple(message.id)


def _shown(message: Message) -> str:
    text = message.id if isinstance(message.id, str) else message.id[0]
    return f"{message.context}|{text}" if message.context else text


def _catalogue_problems(lang: str, catalog: Catalog, expected: Iterable[Message]) -> list[str]:
    """Missing, untranslated or fuzzy entries, and translations whose placeholders are not the msgid's."""
    problems, where = [], f"{lang}/LC_MESSAGES/{DOMAIN}.po"
    for wanted in expected:
        found = catalog.get(wanted.id, wanted.context)
        if found is None:
            problems.append(f"{where}: message absent, lancez `make i18n` / missing entry: {_shown(wanted)!r}")
        elif not _translated(found) or found.fuzzy:
            problems.append(f"{where}: traduction manquante ou à revoir (fuzzy) / missing or fuzzy translation: "
                            f"{_shown(wanted)!r}")
        else:
            ids = [found.id] if isinstance(found.id, str) else list(found.id)
            strings = [found.string] if isinstance(found.string, str) else list(found.string or ())
            try:
                allowed = set().union(*(placeholders(text) for text in ids))
                extra = set().union(*(placeholders(text) for text in strings)) - allowed
            except ValueError as exc:
                problems.append(f"{where}: accolade mal formée / malformed brace in {_shown(wanted)!r}: {exc}")
                continue
            if extra:
                problems.append(f"{where}: paramètre inconnu {sorted(extra)} dans la traduction / unknown "
                                f"placeholder in the translation of {_shown(wanted)!r}")
    for message, errors in catalog.check():
        problems += [f"{where}: {_shown(message)!r}: {error}" for error in errors]
    return problems


def _stale_mo(lang: str, po: Catalog, mo_path: Path) -> list[str]:
    """A .mo that is missing or does not hold what its .po translates."""
    if not mo_path.exists():
        return [f"{mo_path.name} ({lang}) absent, lancez `make i18n` / missing .mo: run `make i18n`"]
    with mo_path.open("rb") as fh:
        mo = read_mo(fh)
    def entries(catalog: Catalog, skip_fuzzy: bool) -> dict[Any, Any]:
        return {_key(m): m.string if isinstance(m.string, str) else tuple(m.string)
                for m in catalog if m.id and m.string and not (skip_fuzzy and m.fuzzy)}
    if entries(po, True) != entries(mo, False) or po.plural_forms != mo.plural_forms:
        return [f"{lang}/LC_MESSAGES/{DOMAIN}.mo ne correspond pas au .po, lancez `make i18n` / "
                f"stale .mo: run `make i18n`"]
    return []


def problems(source: Path = SOURCE, locale: Path = LOCALE) -> list[str]:
    """Everything that would show a user an untranslated message: [] when the catalogues are complete."""
    pot = template(source)
    expected = [message for message in pot if message.id]
    found: list[str] = []
    pot_path = locale / f"{DOMAIN}.pot"
    if not pot_path.exists() or {_key(m) for m in _read_po(pot_path, SOURCE_LANGUAGE) if m.id} != {
            _key(m) for m in expected}:
        found.append(f"{DOMAIN}.pot ne correspond pas au code, lancez `make i18n` / the .pot is stale: run `make i18n`")
    for lang in LANGUAGES:
        path = po_path(locale, lang)
        if not path.exists():
            found.append(f"{path.relative_to(locale)} absent / missing")
            continue
        catalog = _read_po(path, lang)
        found += _catalogue_problems(lang, catalog, expected)
        found += _stale_mo(lang, catalog, path.with_suffix(".mo"))
    return found


def translate(lang: str, pairs: dict[str, str], locale: Path = LOCALE) -> list[str]:
    """Set the `lang` translations of these msgids (fuzzy flag cleared); the msgids not in the catalogue.

    Read and written at once, so that several people adding their own entries do not undo each other's.
    """
    path = po_path(locale, lang)
    catalog = _read_po(path, lang)
    unknown = []
    for msgid, text in pairs.items():
        message = catalog.get(msgid)
        if message is None:
            unknown.append(msgid)
            continue
        message.string = text
        message.flags.discard("fuzzy")
    _write_if_changed(path, _po_bytes(catalog))
    return unknown


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "extract":
        for path in extract():
            print(f"écrit / written: {path}")
        return 0
    if command == "compile":
        for path in compile_all():
            print(f"écrit / written: {path}")
        return 0
    if command == "translate" and len(argv) == 3:
        import json

        pairs = json.loads(Path(argv[2]).read_text(encoding="utf-8"))
        for msgid in translate(argv[1], pairs):
            print(f"absent du catalogue, lancez extract / not in the catalogue, run extract: {msgid!r}",
                  file=sys.stderr)
        return 0
    if command == "check":
        found = problems()
        for problem in found:
            print(problem, file=sys.stderr)
        return 1 if found else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
