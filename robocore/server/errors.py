"""API errors: a stable code and one message, answered in the request's language, French by default.

The body keeps its four fields: `code`; `detail`, in the language negotiated for the request
(`?lang=`, else Accept-Language, else ROBOCORE_LANGUAGE: robocore.server.language); `erreur`,
always French, and `error`, always English, for clients written before the catalogues.
Messages come from the catalogues (robocore.i18n): an ApiError is raised with a lazy message
and rendered only when answered, so one raise serves every language.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from robocore.i18n import Bilingual, Message, Text, render
from robocore.i18n import lazy_gettext as _l
from robocore.server.headers import SECURITY_HEADERS

log = structlog.get_logger("robocore.server")

_GENERIC: dict[int, tuple[str, Message]] = {
    400: ("bad_request", _l("bad request")),
    401: ("unauthenticated", _l("missing or invalid API token")),
    403: ("forbidden", _l("forbidden for this role")),
    404: ("not_found", _l("not found")),
    405: ("method_not_allowed", _l("method not allowed")),
    409: ("conflict", _l("conflict with the current state")),
    413: ("too_large", _l("payload too large")),
    415: ("unsupported_media_type", _l("unsupported media type")),
    422: ("invalid_request", _l("invalid request parameters")),
    429: ("too_many_requests", _l("too many requests")),
    500: ("internal_error", _l("internal server error")),
    503: ("unavailable", _l("service unavailable")),
}
_OTHER = ("error", _l("error"))


class ErrorBody(BaseModel):
    """An error: `detail` in the request's language, `erreur` in French, `error` in English; `fields` (422)."""

    code: str
    detail: str
    erreur: str
    error: str
    fields: list[dict[str, str]] | None = None


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the ErrorBody shape (described by the English
    msgid, which the served document shows in the request's language: robocore.server.app)."""
    return {status: {"model": ErrorBody, "description": _GENERIC.get(status, _OTHER)[1].msgid}
            for status in statuses}


# 413: any request whose body passes ROBOCORE_JSON_MAX_KB (or the upload limit) is refused before routing
AUTHENTICATED = documented(401, 403, 413, 422, 429)


class ApiError(Exception):
    """An error answered to the client as-is: status, code and a message of the catalogues.

    Args:
        message: a lazy message (`lazy_gettext(...)`), or a Bilingual one wrapping an exception's own text
            (a plain string is answered as it is in every language); default: the status's generic one.
        code: the stable error code (default: the status's generic one).
        headers: extra response headers (Retry-After, WWW-Authenticate).
    """

    def __init__(self, status: int, message: Text | None = None, *, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        default_code, default_message = _GENERIC.get(status, _OTHER)
        self.status, self.code = status, code or default_code
        self.message: Text = message if message is not None else default_message
        self.headers = headers
        super().__init__(status, self.code)

    def __str__(self) -> str:
        return render(self.message)


def error_body(code: str, message: Text, **extra: Any) -> dict[str, Any]:
    """The JSON error body: `detail` in the active language, `erreur` in French, `error` in English."""
    return {"code": code, "detail": render(message), "erreur": render(message, "fr"), "error": render(message, "en"),
            **extra}


def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status, headers=exc.headers)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _GENERIC.get(exc.status_code, _OTHER)
    shown: Text = message if exc.status_code in _GENERIC else Bilingual(message, str(exc.detail))
    return JSONResponse(error_body(code, shown), status_code=exc.status_code, headers=getattr(exc, "headers", None))


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [{"champ": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
              for e in exc.errors()]
    code, message = _GENERIC[422]
    return JSONResponse(error_body(code, message, fields=fields), status_code=422)


def _server_error(request: Request, exc: Exception) -> JSONResponse:
    """An unexpected failure: the traceback in the log, our JSON body and the security headers to the client.

    Starlette answers it from its outermost layer, outside every middleware of the app (the
    language one included), so the security headers are set and the language negotiated here.
    """
    from robocore.i18n import use_language
    from robocore.server.language import request_language

    log.error("api.internal_error", method=request.method, path=request.url.path, exc_info=exc)
    code, message = _GENERIC[500]
    lang = request_language(request.scope)
    with use_language(lang):
        content = error_body(code, message)
    return JSONResponse(content, status_code=500, headers=dict(SECURITY_HEADERS, **{
        "cache-control": "no-store", "content-language": lang, "vary": "Accept-Language"}))


def install(app: FastAPI) -> None:
    """Register the error handlers (500 included: JSON, logged with its traceback)."""
    app.add_exception_handler(Exception, _server_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
