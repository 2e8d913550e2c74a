"""The tray's French messages follow French typography: a no-break space (U+00A0, or the narrow U+202F) before
« : », « ; », « ! » and « ? », never a plain space nor none (robocore/locale/fr, every entry the tray uses)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

import robocore

CATALOGUE = Path(robocore.__file__).parent / "locale" / "fr" / "LC_MESSAGES" / "robocore.po"
# a high punctuation mark ending a clause (followed by a space, a line end or the text's end; `http://`,
# `{n}/{total}` and `12:30` are not clauses) must follow a no-break space
_CLAUSE = re.compile(r"(?P<before>.)(?P<mark>[:;!?])(?=\s|$)", re.MULTILINE)


def typography_faults(text: str) -> list[str]:
    """Where `text` puts a plain space, or no space, before a high punctuation mark ending a clause."""
    return [text[max(0, m.start() - 15):m.end()] for m in _CLAUSE.finditer(text)
            if m.group("before") not in "\u00a0\u202f"]


def test_the_rule_itself() -> None:
    assert typography_faults("Temps gagné\u00a0: 9\u00a0min.") == []
    assert typography_faults("À quelle fréquence\u202f?") == []
    assert typography_faults("• {key} : {reason}") == ["• {key} :"]
    assert typography_faults("• {key}: {reason}") == ["• {key}:"]
    assert typography_faults("une adresse http:// ou https://, {done}/{total}") == []


def test_every_french_tray_message_has_a_no_break_space_before_high_punctuation() -> None:
    with CATALOGUE.open("rb") as fh:
        catalogue = read_po(fh)
    faults: list[str] = []
    seen = 0
    for message in catalogue:
        if not message.id or not any("robocore/tray/" in place for place, _line in message.locations):
            continue
        seen += 1
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            faults.extend(f"{message.id!r}: …{fault!r}" for fault in typography_faults(text or ""))
    assert seen > 50
    assert faults == [], "\n".join(faults)
