"""Built-in action reconcile.tables: compare two tables by key, optionally writing a report."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypedDict, cast

from pydantic import BaseModel, ConfigDict, ValidationError

from robocore import Context, action
from robocore.errors import BusinessError
from robocore.i18n import gettext as _
from robocore.i18n import lazy_pgettext
from robocore.problems import describe
from robocore.tables.coltypes import ColumnType

Side = list[dict[str, Any]] | dict[str, Any]
"""A side once read: a list of rows, or a table (a read_table result)."""


class Difference(TypedDict):
    """One compared column whose values differ beyond the tolerances."""

    field: Annotated[str, "the left column compared"]
    right_field: Annotated[str, "the right column it was compared with"]
    left: Annotated[Any, "the left value"]
    right: Annotated[Any, "the right value"]
    difference: Annotated[float | int | None, "left − right for amounts, in days for dates; None for texts"]


class Pair(TypedDict):
    """A key found once on each side."""

    key: Annotated[str, "the normalised key (several key columns joined by `|`)"]
    left_line: Annotated[int | None, "the left row's source line (`_ligne`)"]
    right_line: Annotated[int | None, "the right row's source line (`_ligne`)"]
    left: Annotated[dict[str, Any], "the left row"]
    right: Annotated[dict[str, Any], "the right row"]


class Mismatch(Pair):
    """A key found once on each side whose compared values differ."""

    differences: Annotated[list[Difference], "each compared column that differs"]


class Single(TypedDict):
    """A row on one side only, or one of several rows sharing a key."""

    key: Annotated[str, "the normalised key (empty when the row has none)"]
    line: Annotated[int | None, "the row's source line (`_ligne`)"]
    row: Annotated[dict[str, Any], "the row"]


class Counts(TypedDict):
    """How many entries each category holds, and how many rows each side had."""

    matched: Annotated[int, "pairs equal within the tolerances"]
    mismatched: Annotated[int, "pairs with differences"]
    only_left: Annotated[int, "left rows without a right one (keyless ones included)"]
    only_right: Annotated[int, "right rows without a left one (keyless ones included)"]
    duplicates_left: Annotated[int, "left rows whose key appears several times"]
    duplicates_right: Annotated[int, "right rows whose key appears several times"]
    left: Annotated[int, "rows read on the left"]
    right: Annotated[int, "rows read on the right"]


class Totals(TypedDict):
    """Sums of the compared amount columns, per category, keyed by the left column's name."""

    matched: Annotated[dict[str, dict[str, float]], "per column: `left`, `right` and `difference` sums"]
    mismatched: Annotated[dict[str, dict[str, float]], "per column: `left`, `right` and `difference` sums"]
    only_left: Annotated[dict[str, dict[str, float]], "per column: the `left` sum"]
    only_right: Annotated[dict[str, dict[str, float]], "per column: the `right` sum"]
    duplicates_left: Annotated[dict[str, dict[str, float]], "per column: the `left` sum"]
    duplicates_right: Annotated[dict[str, dict[str, float]], "per column: the `right` sum"]


class Reconciliation(TypedDict):
    """What reconcile.tables found, category by category."""

    matched: Annotated[list[Pair], "pairs whose compared values are equal within the tolerances"]
    mismatched: Annotated[list[Mismatch], "pairs whose compared values differ"]
    only_left: Annotated[list[Single], "left rows with no right row of the same key"]
    only_right: Annotated[list[Single], "right rows with no left row of the same key"]
    duplicates_left: Annotated[list[Single], "left rows sharing their key with another left row"]
    duplicates_right: Annotated[list[Single], "right rows sharing their key with another right row"]
    counts: Annotated[Counts, "the number of entries of each category (always complete)"]
    totals: Annotated[Totals, "sums of the compared amount columns per category"]
    ok: Annotated[bool, "true when nothing but matched pairs was found"]
    report: Annotated[str | None, "full path of the report workbook written (None without `output`)"]


@action("reconcile.tables")
def tables(ctx: Context, left: list[dict[str, Any]] | dict[str, Any] | Path,
           right: list[dict[str, Any]] | dict[str, Any] | Path, left_key: str | list[str],
           right_key: str | list[str], compare: dict[str, str] | list[str] | None = None,
           tolerance: float = 0.0, date_tolerance_days: int = 0, key_pattern: str | None = None,
           output: Path | None = None, left_name: str = "Grand livre",
           right_name: str = "Relevé bancaire", matched_in_report: int | None = 1_000) -> Reconciliation:
    """Reconcile two tables by key: matched, mismatched, only on one side, duplicated.

    Args:
        left: the general ledger, say: a workbook to read (its path, or a mapping of
            `path` and excel.read_table's `sheet`, `header_row`, `french_numbers`),
            a read_table result, or a list of rows. Two workbooks given here are read
            at the same time (one thread each), faster than two read_table steps.
        right: the same for the other side (e.g. the bank statement).
        left_key: key column(s) of the left rows; several columns make a composite key.
        right_key: key column(s) of the right rows, as many as `left_key`.
        compare: left column → right column to compare (a list when names are the same);
            by default the columns both sides share.
        tolerance: largest amount gap still counted as equal.
        date_tolerance_days: largest date gap, in days, still counted as equal.
        key_pattern: a regex applied to the upper-cased key; its first group is the key.
        output: where to write the reconciliation workbook (.xlsx). Every path (both sides and
            this one) lies inside the robot's, the run's or an allowed folder (robocore.paths).
        left_name: the left side's name in messages and in the report.
        right_name: the right side's name in messages and in the report.
        matched_in_report: matched rows listed in the report (None: all); counts are always complete.

    Example:
        - id: rec
          use: reconcile.tables
          with:
            left: {path: "{{ inputs.grand_livre }}", french_numbers: true}
            right: "{{ inputs.releve }}"
            left_key: Référence
            right_key: Libellé
            key_pattern: '(FAC-\\d+)'
            compare: {Montant: Crédit}
            tolerance: 0.01
            output: sortie/rapprochement.xlsx
    """
    import re

    from robocore.tables import reconcile as rec
    from robocore.tables.report import write_report

    if output is not None:
        ctx.path(output)  # a refused report path fails the step before any reading
    ltable, rtable = _read_workbooks(ctx, left, right)
    lrows, rrows = rec.rows_of(ltable, str(_SIDES["left"])), rec.rows_of(rtable, str(_SIDES["right"]))
    lcols, rcols = rec.table_columns(lrows, ltable), rec.table_columns(rrows, rtable)
    lkey = rec.resolve([left_key] if isinstance(left_key, str) else left_key, lcols, left_name)
    rkey = rec.resolve([right_key] if isinstance(right_key, str) else right_key, rcols, right_name)
    if compare is None:
        pairs = rec.default_compare(lcols, rcols, {rec.fold(k) for k in lkey + rkey})
    else:
        asked = dict(compare) if isinstance(compare, dict) else {c: c for c in compare}
        pairs = dict(zip(rec.resolve(list(asked), lcols, left_name),
                         rec.resolve(list(asked.values()), rcols, right_name), strict=True))
    opts = rec.Options(left_key=lkey, right_key=rkey, compare=pairs, tolerance=tolerance,
                       date_tolerance_days=date_tolerance_days,
                       key_pattern=re.compile(key_pattern, re.IGNORECASE) if key_pattern else None)
    opts.amounts = rec.numeric_columns(lrows, list(pairs)) & {
        lcol for lcol, rcol in pairs.items() if rcol in rec.numeric_columns(rrows, [rcol])}
    result = rec.reconcile(lrows, rrows, opts)
    result["report"] = None
    if output is not None:
        target = ctx.path(output, write=True)  # checked again just before writing
        parameters = {"clé " + left_name: ", ".join(lkey), "clé " + right_name: ", ".join(rkey),
                      "colonnes comparées": ", ".join(f"{a} ↔ {b}" for a, b in pairs.items()),
                      "tolérance montants": tolerance, "tolérance dates (jours)": date_tolerance_days,
                      "motif de clé": key_pattern or "", "lignes " + left_name: len(lrows),
                      "lignes " + right_name: len(rrows)}
        write_report(target, result, opts, lcols, rcols, (left_name, right_name), parameters,
                     matched_in_report)
        result["report"] = str(target)
    ctx.log.info("reconcile.tables", **{k: v for k, v in result["counts"].items()})
    return cast(Reconciliation, result)


class WorkbookSource(BaseModel):
    """A side given as a workbook to read: excel.read_table's parameters."""

    model_config = ConfigDict(extra="forbid")
    path: Path
    sheet: str | int | None = None
    header_row: int | None = None
    french_numbers: bool = False
    columns: dict[str, ColumnType] | None = None
    strip: bool = True


def _read_workbooks(ctx: Context, left: Side | Path, right: Side | Path) -> tuple[Side, Side]:
    """Each side given as a workbook replaced by its table; both read at once (read_tables)."""
    from robocore.tables.guard import limits_from
    from robocore.tables.read import Source, read_tables

    given = {"left": _source(left, "left"), "right": _source(right, "right")}
    sources = {name: Source(ctx.path(g.path), g.sheet, g.header_row, g.french_numbers, None, g.columns, g.strip)
               for name, g in given.items() if isinstance(g, WorkbookSource)}
    read: dict[str, dict[str, Any]] = {}
    if sources:
        read = dict(zip(sources, read_tables(list(sources.values()), limits_from(ctx.settings.extra)),
                        strict=True))
    for name, table in read.items():
        ctx.log.info("excel.read_table", side=name, path=table["path"], sheet=table["sheet"],
                     count=table["count"], header_row=table["header_row"], skipped_rows=table["skipped_rows"])
    sides = [read[name] if isinstance(g, WorkbookSource) else g for name, g in given.items()]
    return sides[0], sides[1]


_SIDES = {"left": lazy_pgettext("workbook side", "left"), "right": lazy_pgettext("workbook side", "right")}


def _source(value: Side | Path, side: str) -> WorkbookSource | Side:
    """The workbook a side names, or the side itself: a table or rows given as they are."""
    if isinstance(value, (str, Path)):
        return WorkbookSource(path=Path(value))
    if not isinstance(value, Mapping) or "rows" in value or "path" not in value:
        return value
    try:
        return WorkbookSource.model_validate(dict(value))
    except ValidationError as exc:
        problems = "; ".join(_("'{field}': {problem}", field=".".join(map(str, (side, *e["loc"]))),
                                 problem=describe(e)) for e in exc.errors())
        raise BusinessError(_("{side} workbook badly described: {problems} (allowed keys: path, sheet, header_row, "
                              "french_numbers)", side=_SIDES[side], problems=problems)) from None
