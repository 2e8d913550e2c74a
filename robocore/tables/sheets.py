"""A workbook's sheets: listing them, and finding one by name or by position as Excel users count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robocore.errors import BusinessError
from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.tables.guard import Limits, check_file, refuse

_STATES = {"Visible": "visible", "Hidden": "hidden", "VeryHidden": "very hidden"}


def list_sheets(path: Path, limits: Limits | None = None) -> list[dict[str, Any]]:
    """The sheets of a workbook, in order: name, 1-based position, visible, state.

    `state` is `visible`, `hidden` (Format > Hide) or `very hidden` (hidden by a macro, not
    shown by Excel's Unhide). A CSV file is one visible sheet named after the file. The file
    passes the same guard as excel.read_table before any parser opens it.
    """
    kind = check_file(path, limits or Limits())
    if kind == "text":
        return [{"name": path.stem, "position": 1, "visible": True, "state": "visible"}]
    import python_calamine as pc

    try:
        with pc.CalamineWorkbook.from_path(str(path)) as workbook:
            metadata = list(workbook.sheets_metadata)
    except pc.PasswordError as exc:
        raise refuse(path, _l("Password-protected workbook")) from exc
    except (pc.CalamineError, pc.ZipError, pc.XmlError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise refuse(path, _l("Unreadable workbook ({reason})", reason=reason)) from exc
    sheets = []
    for position, meta in enumerate(metadata, start=1):
        state = _STATES.get(str(meta.visible).rsplit(".", 1)[-1], "visible")
        sheets.append({"name": meta.name, "position": position, "visible": state == "visible", "state": state})
    return sheets


def pick_sheet(path: Path, names: list[str], sheet: str | int | None) -> str:
    """The name of the sheet asked for: by name (exact, else ignoring case and outer spaces), or by
    1-based position (`1` is the first sheet, as Excel users count; a text of digits counts as a
    position when no sheet has that name); the first sheet when None.

    Raises:
        BusinessError: no such sheet (the sheets are listed), or a position below 1.
    """
    if sheet is None:
        if not names:
            raise refuse(path, _l("Workbook without sheets"))
        return names[0]
    if isinstance(sheet, str):
        if sheet in names:
            return sheet
        folded = {n.strip().casefold(): n for n in names}
        if sheet.strip().casefold() in folded:
            return folded[sheet.strip().casefold()]
        if sheet.strip().isdigit():
            sheet = int(sheet.strip())
    listed = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names, start=1))
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if sheet < 1:
            raise BusinessError(_("Sheet position {position} in {path}: positions start at 1, the first sheet "
                                  "(sheets: {listed})", position=sheet, path=path, listed=listed))
        if sheet <= len(names):
            return names[sheet - 1]
    raise BusinessError(_("Sheet {sheet} not found in {path} (sheets: {listed})", sheet=repr(sheet), path=path,
                          listed=listed))
