"""Multipart launch forms streamed to the run's folder, with early abort past the size limit.

Starlette's own form parser spools every file to a temporary file before the route sees it,
so an upload ten times the limit would still land on disk. This parser writes each chunk
as it arrives and stops reading (413) as soon as the running total passes the limit.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import IO, Any

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from robocore.i18n import lazy_gettext as _l
from robocore.server.errors import ApiError

FORM_OVERHEAD = 64 * 1024      # headers, boundaries and text fields on top of the files
TEXT_FIELD_MAX = 64 * 1024
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def safe_filename(raw: str) -> str:
    """A file name that cannot leave its folder: base name only, no control or special characters."""
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[^\w.\- ()]", "_", name).strip(" .")
    if not name or name.split(".")[0].lower() in _RESERVED:
        name = f"fichier{('_' + name) if name else ''}"
    stem, dot, suffix = name.rpartition(".")
    if dot and len(suffix) <= 16:
        return f"{stem[:120 - len(suffix)]}.{suffix}"
    return name[:120]


def too_large(limit: int) -> ApiError:
    mb = limit / (1024 * 1024)
    return ApiError(413, _l("files too large (at most {mb:g} MB per launch, ROBOCORE_UPLOAD_MAX_MB)", mb=mb),
                    code="upload_too_large")


class _Form:
    """Collects text fields and writes file parts under a folder, counting bytes as they come."""

    def __init__(self, dest: Path, file_fields: set[str], limit: int) -> None:
        self.dest, self.file_fields, self.limit = dest, file_fields, limit
        self.fields: dict[str, str] = {}
        self.files: dict[str, Path] = {}
        self.error: ApiError | None = None
        self.file_bytes = 0
        self._headers: dict[bytes, bytes] = {}
        self._field = self._value = b""
        self._name: str | None = None
        self._text: bytearray | None = None
        self._out: IO[bytes] | None = None

    def callbacks(self) -> dict[str, Any]:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_done, "on_part_data": self._data, "on_part_end": self._end}

    def _begin(self) -> None:
        self._headers, self._name, self._text, self._out = {}, None, None, None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def _headers_done(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if self.error:
            return
        if filename is None:
            self._name, self._text = name, bytearray()
        elif not filename:
            return  # a form's empty file field: nothing chosen
        elif name not in self.file_fields:
            self.error = ApiError(400, _l("'{name}' is not a file input of this robot", name=name),
                                  code="unexpected_file")
        elif name in self.files:
            self.error = ApiError(400, _l("one file only for the input '{name}'", name=name))
        else:
            folder = self.dest / safe_filename(name)
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / safe_filename(filename.decode("utf-8", "replace"))
            self.files[name], self._name, self._out = target, name, target.open("wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.error:
            return
        if self._out is not None:
            self.file_bytes += end - start
            if self.file_bytes > self.limit:
                self.error = too_large(self.limit)
                return
            self._out.write(data[start:end])
        elif self._text is not None:
            self._text += data[start:end]
            if len(self._text) > TEXT_FIELD_MAX:
                self.error = ApiError(413, _l("form field '{name}' too long (at most {limit} bytes)",
                                              name=self._name, limit=TEXT_FIELD_MAX))

    def _end(self) -> None:
        if self._out is not None:
            self._out.close()
        elif self._text is not None and self._name is not None and not self.error:
            self.fields[self._name] = self._text.decode("utf-8", "replace")
        self._out = self._text = None

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


async def receive_form(request: Request, dest: Path, file_fields: set[str],
                       limit: int) -> tuple[dict[str, str], dict[str, Path]]:
    """Stream a multipart body: text fields, and files saved under dest/<input>/<sanitised name>.

    Raises ApiError 413 as soon as more than `limit` bytes of files (or the body) arrive; the
    caller removes `dest` on any error.
    """
    _, params = parse_options_header(request.headers.get("content-type", "").encode("latin-1"))
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(400, _l("multipart form without a boundary"))
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise too_large(limit)
    form = _Form(dest, file_fields, limit)
    parser = MultipartParser(boundary, form.callbacks())  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + FORM_OVERHEAD:
                raise too_large(limit)
            parser.write(chunk)
            if form.error:
                raise form.error
        parser.finalize()
    except FormParserError:
        raise ApiError(400, _l("malformed multipart form")) from None
    finally:
        form.close()
    if form.error:
        raise form.error
    return form.fields, form.files
