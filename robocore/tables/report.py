"""The reconciliation workbook an accountant reads: a summary, then one sheet per category."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from robocore.tables.reconcile import Options
from robocore.tables.rows import stored
from robocore.tables.write import SheetWriter, save_atomically

LABELS = {"matched": "Rapprochées", "mismatched": "Écarts", "only_left": "Seulement {left}",
          "only_right": "Seulement {right}", "duplicates": "Doublons"}


def sheet_title(text: str) -> str:
    """A valid, at most 31-character worksheet title."""
    return re.sub(r"[\[\]:*?/\\]", " ", text).strip()[:31] or "Feuille"


def write_report(path: Path, result: Mapping[str, Any], opts: Options, left_cols: Sequence[str],
                 right_cols: Sequence[str], names: tuple[str, str], parameters: Mapping[str, Any],
                 matched_limit: int | None) -> None:
    """Write the whole report (write-only workbook, so that its size does not matter).

    Entries are read as stored: their rows are not turned into `Row`s (see `Rows`).
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    left, right = names
    _summary(workbook, result, opts, names, parameters, matched_limit)
    _matched(workbook, stored(result["matched"])[:matched_limit], opts, names)
    _mismatched(workbook, stored(result["mismatched"]), opts, names)
    _single(workbook, LABELS["only_left"].format(left=left), stored(result["only_left"]), left_cols, opts)
    _single(workbook, LABELS["only_right"].format(right=right), stored(result["only_right"]), right_cols, opts)
    _duplicates(workbook, result, opts, names)
    save_atomically(path, workbook.save)


def _sheet(workbook: Any, title: str, columns: list[str], euro: set[str],
           sample: Sequence[Mapping[str, Any]] = ()) -> SheetWriter:
    writer = SheetWriter(workbook.create_sheet(sheet_title(title)), columns, True, amounts=euro)
    writer.header(sample)
    return writer


def _summary(workbook: Any, result: Mapping[str, Any], opts: Options, names: tuple[str, str],
             parameters: Mapping[str, Any], matched_limit: int | None) -> None:
    left, right = names
    amounts = [c for c in opts.compare if c in opts.amounts]
    columns = ["Catégorie", "Lignes"] + [f"{c} — {side}" for c in amounts for side in (left, right, "écart")]
    writer = _sheet(workbook, "Synthèse", columns, set(columns[2:]))
    labels = [("matched", LABELS["matched"]), ("mismatched", LABELS["mismatched"]),
              ("only_left", LABELS["only_left"].format(left=left)),
              ("only_right", LABELS["only_right"].format(right=right)),
              ("duplicates_left", f"Doublons {left}"), ("duplicates_right", f"Doublons {right}")]
    euro = [False, False] + [True] * (len(columns) - 2)
    for category, label in labels:
        line: list[Any] = [label, result["counts"][category]]
        for column in amounts:
            sums = result["totals"][category].get(column, {})
            line += [sums.get("left"), sums.get("right"), sums.get("difference")]
        writer.values(line, euro)
    writer.finish()
    writer.values([])
    writer.values(["Paramètres", ""])
    shown = dict(parameters)
    shown["date du rapprochement"] = dt.datetime.now().strftime("%d/%m/%Y %H:%M")
    if matched_limit is not None and result["counts"]["matched"] > matched_limit:
        shown["détail des rapprochées"] = f"{matched_limit} premières lignes sur {result['counts']['matched']}"
    for name, value in shown.items():
        writer.values([name, value if isinstance(value, (int, float, str)) else str(value)])


def _matched(workbook: Any, entries: list[dict[str, Any]], opts: Options, names: tuple[str, str]) -> None:
    left, right = names
    pairs = list(opts.compare.items())
    columns = ["Clé", f"Ligne {left}", f"Ligne {right}"]
    for lcol, rcol in pairs:
        columns += [f"{lcol} ({left})", f"{rcol} ({right})"]
    euro = [False] * 3 + [lcol in opts.amounts for lcol, _ in pairs for _side in (0, 1)]
    writer = _sheet(workbook, LABELS["matched"], columns, set())
    for e in entries:
        line = [e["key"], e["left_line"], e["right_line"]]
        for lcol, rcol in pairs:
            line += [e["left"].get(lcol), e["right"].get(rcol)]
        writer.values(line, euro)
    writer.finish()


def _mismatched(workbook: Any, entries: list[dict[str, Any]], opts: Options, names: tuple[str, str]) -> None:
    left, right = names
    columns = ["Clé", f"Ligne {left}", f"Ligne {right}", "Champ", f"Valeur {left}", f"Valeur {right}", "Écart"]
    writer = _sheet(workbook, LABELS["mismatched"], columns, set())
    for e in entries:
        for d in e["differences"]:
            euro = d["field"] in opts.amounts
            writer.values([e["key"], e["left_line"], e["right_line"], d["field"], d["left"], d["right"],
                           d["difference"]], [False] * 4 + [euro] * 3)
    writer.finish()


def _single(workbook: Any, title: str, entries: list[dict[str, Any]], columns: Sequence[str],
            opts: Options) -> None:
    euro = set(opts.amounts) | set(opts.compare[c] for c in opts.amounts if c in opts.compare)
    writer = _sheet(workbook, title, ["Clé", "Ligne", *columns], euro, [e["row"] for e in entries[:200]])
    flags = [False, False] + [c in euro for c in columns]
    for e in entries:
        writer.values([e["key"], e["line"], *(e["row"].get(c) for c in columns)], flags)
    writer.finish()


def _duplicates(workbook: Any, result: Mapping[str, Any], opts: Options, names: tuple[str, str]) -> None:
    pairs = list(opts.compare.items())
    columns = ["Côté", "Clé", "Ligne", *(lcol for lcol, _ in pairs)]
    writer = _sheet(workbook, LABELS["duplicates"], columns, set())
    flags = [False] * 3 + [lcol in opts.amounts for lcol, _ in pairs]
    for side, name, index in (("duplicates_left", names[0], 0), ("duplicates_right", names[1], 1)):
        for e in stored(result[side]):
            writer.values([name, e["key"], e["line"], *(e["row"].get(p[index]) for p in pairs)], flags)
    writer.finish()
