"""API errors: bodies in French first, with English, and a stable code."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from robocore.server.headers import SECURITY_HEADERS

log = structlog.get_logger("robocore.server")

_GENERIC = {
    400: ("bad_request", "Requête incorrecte", "bad request"),
    401: ("unauthenticated", "Jeton d'API manquant ou invalide", "missing or invalid API token"),
    403: ("forbidden", "Accès refusé pour ce rôle", "forbidden for this role"),
    404: ("not_found", "Ressource introuvable", "not found"),
    405: ("method_not_allowed", "Méthode non autorisée", "method not allowed"),
    409: ("conflict", "Conflit avec l'état actuel", "conflict with the current state"),
    413: ("too_large", "Envoi trop volumineux", "payload too large"),
    415: ("unsupported_media_type", "Type de contenu non pris en charge", "unsupported media type"),
    422: ("invalid_request", "Paramètres de la requête invalides", "invalid request parameters"),
    429: ("too_many_requests", "Trop de tentatives, réessayez plus tard", "too many requests"),
    500: ("internal_error", "Erreur interne du serveur", "internal server error"),
    503: ("unavailable", "Service indisponible", "service unavailable"),
}


class ErrorBody(BaseModel):
    """An error: `detail` reads "français / English"; `fields` lists invalid parameters (422)."""

    code: str
    detail: str
    erreur: str
    error: str
    fields: list[dict[str, str]] | None = None


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the ErrorBody shape."""
    return {status: {"model": ErrorBody, "description": _GENERIC.get(status, ("", "Erreur", ""))[1]}
            for status in statuses}


# 413: any request whose body passes ROBOCORE_JSON_MAX_KB (or the upload limit) is refused before routing
AUTHENTICATED = documented(401, 403, 413, 422, 429)


class ApiError(Exception):
    """An error answered to the client as-is (status, code, French and English message)."""

    def __init__(self, status: int, fr: str | None = None, en: str | None = None, *, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        default = _GENERIC.get(status, ("error", "Erreur", "error"))
        self.status, self.code = status, code or default[0]
        self.fr, self.en = fr or default[1], en or default[2]
        self.headers = headers
        super().__init__(f"{self.fr} / {self.en}")


def body(code: str, fr: str, en: str, **extra: Any) -> dict[str, Any]:
    """The JSON error body: `detail` reads "français / English"."""
    return {"code": code, "detail": f"{fr} / {en}", "erreur": fr, "error": en, **extra}


def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(body(exc.code, exc.fr, exc.en), status_code=exc.status, headers=exc.headers)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, fr, en = _GENERIC.get(exc.status_code, ("error", "Erreur", str(exc.detail)))
    return JSONResponse(body(code, fr, en), status_code=exc.status_code, headers=getattr(exc, "headers", None))


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [{"champ": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
              for e in exc.errors()]
    return JSONResponse(body("invalid_request", "Paramètres de la requête invalides", "invalid request parameters",
                             fields=fields), status_code=422)


def _server_error(request: Request, exc: Exception) -> JSONResponse:
    """An unexpected failure: the traceback in the log, our JSON body and the security headers to the client.

    Starlette answers it from its outermost layer, outside every middleware of the app, so the
    security headers are set here.
    """
    log.error("api.internal_error", method=request.method, path=request.url.path, exc_info=exc)
    code, fr, en = _GENERIC[500]
    return JSONResponse(body(code, fr, en), status_code=500, headers=dict(SECURITY_HEADERS, **{
        "cache-control": "no-store"}))


def install(app: FastAPI) -> None:
    """Register the French-first error handlers (500 included: JSON, logged with its traceback)."""
    app.add_exception_handler(Exception, _server_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
