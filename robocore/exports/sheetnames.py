"""Sheet names Excel accepts: at most 31 characters, none of `[]:*?/\\`, not quoted at either end, unique."""

from __future__ import annotations

import re

from robocore.i18n import gettext as _

MAX_LENGTH = 31
_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f\ufffe\uffff]")
_ENDS = re.compile(r"^['\s]+|['\s]+$")  # a name may not begin or end with an apostrophe
_RESERVED = {"history"}  # Excel keeps "History" for its change tracking


class SheetNames:
    """Hands out unique sheet names; Excel compares them without case, so does this."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def take(self, wanted: str) -> str:
        """A valid name close to `wanted`, unique in this workbook: « Nom (2) » when taken; « Feuille » ("Sheet",
        in the active language) when nothing of it is left."""
        base = _ENDS.sub("", " ".join(_FORBIDDEN.sub(" ", wanted).split())) or _("Sheet")
        if base.casefold() in _RESERVED:
            base = f"{base} (1)"
        name, n = _ENDS.sub("", base[:MAX_LENGTH]), 1
        while name.casefold() in self._taken:
            n += 1
            suffix = f" ({n})"
            name = _ENDS.sub("", base[:MAX_LENGTH - len(suffix)]) + suffix
        self._taken.add(name.casefold())
        return name
