"""The demo portal: a small French administration web application that robots fill in."""

from __future__ import annotations

import asyncio
import hmac
import random
import re
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, UploadFile

from robocore.demo import db
from robocore.demo.config import PortalConfig
from robocore.demo.forms import CSRF_FIELD, FIELDS, PRIORITES, TOKEN_FIELD, TYPES_DEMANDE, Layout, validate
from robocore.demo.session import COOKIE_NAME, Session, Signer

PACKAGE_DIR = Path(__file__).parent
CHUNK = 64 * 1024


class LoginRequired(Exception):
    """Raised by a page that needs an authenticated agent."""

    def __init__(self, path: str) -> None:
        """Remember where to go back after login."""
        super().__init__(path)
        self.path = path


class Portal:
    """State shared by the routes of one app instance."""

    def __init__(self, config: PortalConfig) -> None:
        """Prepare storage, signers and the random source."""
        self.config = config
        self.db_path = config.database
        db.init_db(self.db_path)
        config.uploads_dir.mkdir(parents=True, exist_ok=True)
        self.cookies = Signer(config.secret_key, "session")
        self.form_tokens = Signer(config.secret_key, "formulaire")
        # SystemRandom when unseeded: shuffled names must not be predictable from earlier pages.
        self.rng: random.Random = random.Random(config.seed) if config.seed is not None else random.SystemRandom()
        self.templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))
        self.templates.env.filters.update(montant_fr=montant_fr, date_fr=date_fr)

    def session(self, request: Request) -> Session | None:
        """The verified session of this request, if any."""
        payload = self.cookies.loads(request.cookies.get(COOKIE_NAME), self.config.session_max_age_s)
        return Session.from_payload(payload)

    def user_session(self, request: Request) -> Session:
        """The session of a logged-in agent, or LoginRequired."""
        session = self.session(request)
        if session is None or session.user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(target)
        return session

    def render(self, request: Request, template: str, session: Session, status: int = 200,
               **context: Any) -> Response:
        """Render a page and (re)issue the session cookie."""
        context.update(session=session, csrf_field=CSRF_FIELD, csrf_token=session.csrf)
        response = self.templates.TemplateResponse(request, template, context, status_code=status)
        self.set_cookie(response, session)
        return response

    def set_cookie(self, response: Response, session: Session) -> None:
        """Store the signed session in an HttpOnly, SameSite=Lax cookie."""
        response.set_cookie(COOKIE_NAME, self.cookies.dumps(session.to_payload()),
                            max_age=self.config.session_max_age_s, httponly=True, samesite="lax", path="/")

    async def maybe_slow(self) -> None:
        """Delay a form POST now and then, as a loaded real portal does."""
        if self.config.slow_ms and self.rng.random() < self.config.slow_rate:
            await asyncio.sleep(self.config.slow_ms / 1000)

    def new_layout(self) -> Layout:
        """Plain layout, or a fresh random one in shuffle mode."""
        return Layout.shuffled(self.rng) if self.config.shuffle else Layout.plain()

    def form_page(self, request: Request, session: Session, values: dict[str, str] | None = None,
                  errors: dict[str, str] | None = None, status: int = 200) -> Response:
        """The "Nouvelle demande" form, with a per-form token binding its layout to the session."""
        layout = self.new_layout()
        token = self.form_tokens.dumps({"sid": session.sid, **layout.to_payload()})
        return self.render(request, "nouvelle.html", session, status, layout=layout,
                           fields=layout.fields(), names=layout.names, token=token,
                           token_field=TOKEN_FIELD, values=values or {"priorite": "Normale"},
                           errors=errors or {}, types=TYPES_DEMANDE, priorites=PRIORITES,
                           max_upload_mo=self.config.max_upload_bytes // (1024 * 1024))

    def layout_of(self, token: object, session: Session) -> Layout | None:
        """The layout a submitted form was rendered with (identity when not shuffling and no token)."""
        if not isinstance(token, str) or not token:
            return None if self.config.shuffle else Layout.plain()
        payload = self.form_tokens.loads(token, self.config.session_max_age_s)
        if payload is None or payload.get("sid") != session.sid:
            return None
        return Layout.from_payload(payload)


    async def handle_submission(self, request: Request, session: Session, form: FormData) -> Response:
        """Check CSRF and layout, validate, store; redirect on success, re-render with errors otherwise."""
        limit = self.config.max_upload_bytes
        if not session.csrf_ok(form.get(CSRF_FIELD)):
            return self.render(request, "erreur.html", session, 403, titre="Jeton de sécurité invalide",
                               message="Votre session a expiré. Rechargez le formulaire et recommencez.")
        layout = self.layout_of(form.get(TOKEN_FIELD), session)
        if layout is None:
            return self.render(request, "erreur.html", session, 400, titre="Formulaire expiré",
                               message="Ce formulaire n'est plus valide. Rechargez-le et recommencez.")
        raw: dict[str, str] = {}
        for field in FIELDS:
            value = form.get(layout.names[field.key], "")
            if field.kind != "file" and isinstance(value, str):
                raw[field.key] = value
        demande, errors = validate(raw, session.user or "")
        upload = form.get(layout.names["piece_justificative"])
        piece: tuple[str, Path, int] | None = None
        if isinstance(upload, UploadFile) and upload.filename:
            saved = await save_upload(upload, self.config.uploads_dir, limit)
            if saved is None:
                errors["piece_justificative"] = \
                    f"Le fichier dépasse la taille maximale autorisée ({limit // (1024 * 1024)} Mo)"
            else:
                piece = (upload.filename, *saved)
        if demande is not None and "numero_dossier" not in errors \
                and db.dossier_exists(self.db_path, demande.numero_dossier):
            errors["numero_dossier"] = "Ce numéro de dossier est déjà enregistré"
        if demande is not None and not errors:
            try:
                reference = db.insert_demande(self.db_path, demande,
                                              (piece[0], piece[1].name, piece[2]) if piece else None)
            except db.DuplicateDossier:  # a concurrent submission won the race
                errors["numero_dossier"] = "Ce numéro de dossier est déjà enregistré"
            else:
                return RedirectResponse(f"/demandes/{reference}/confirmation", status_code=303)
        if piece is not None:
            piece[1].unlink(missing_ok=True)
        return self.form_page(request, session, raw, errors, status=422)


def montant_fr(value: Decimal) -> str:
    """1234.5 -> "1 234,50 €" (narrow no-break space between thousands, as French typography wants)."""
    return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0€"


def date_fr(value: str) -> str:
    """ISO date -> JJ/MM/AAAA."""
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else falls back to the form."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/demandes/nouvelle"


def safe_filename(name: str) -> str:
    """A file name safe to use on disk, keeping its extension readable."""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "piece"
    return cleaned[-100:]


async def save_upload(upload: UploadFile, folder: Path, limit: int) -> tuple[Path, int] | None:
    """Copy an upload to disk in chunks; None (and nothing kept) when it exceeds `limit` bytes."""
    target = folder / f"{uuid.uuid4().hex}-{safe_filename(upload.filename or '')}"
    size = 0
    with target.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > limit:
                break
            out.write(chunk)
    if size > limit:
        target.unlink(missing_ok=True)
        return None
    return target, size


def create_app(config: PortalConfig | None = None) -> FastAPI:
    """Build the portal application for `config` (test-friendly defaults when None)."""
    portal = Portal(config or PortalConfig())
    app = FastAPI(title="Portail des demandes (démo)", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = portal
    app.mount("/static", StaticFiles(directory=str(PACKAGE_DIR / "static")), name="static")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        """Unauthenticated pages send the agent to the login page, then back."""
        return RedirectResponse(f"/connexion?suite={quote(exc.path, safe='')}", status_code=303)

    @app.get("/sante", response_class=PlainTextResponse)
    async def health() -> str:
        """Liveness probe used by run_portal()."""
        return "ok"

    @app.get("/")
    async def home(request: Request) -> Response:
        """The home page is the form for agents, the login page for others."""
        portal.user_session(request)
        return RedirectResponse("/demandes/nouvelle", status_code=303)

    @app.get("/connexion", response_class=HTMLResponse)
    async def login_page(request: Request, suite: str = "") -> Response:
        """The login form; creates an anonymous session holding the CSRF token."""
        session = portal.session(request) or Session.new()
        return portal.render(request, "connexion.html", session, suite=safe_next(suite))

    @app.post("/connexion", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        """Check the CSRF token, then the credentials; rotate the session on success."""
        await portal.maybe_slow()
        form = await request.form(max_files=0, max_fields=10)
        session = portal.session(request)
        suite = safe_next(str(form.get("suite", "")))
        if session is None or not session.csrf_ok(form.get(CSRF_FIELD)):
            return portal.render(request, "connexion.html", session or Session.new(), 403, suite=suite,
                                 erreur="Votre session a expiré ou le jeton de sécurité est invalide. "
                                        "Veuillez réessayer.")
        username = str(form.get("identifiant", "")).strip()
        password = str(form.get("mot_de_passe", ""))
        good = hmac.compare_digest(username.encode(), portal.config.username.encode()) & \
            hmac.compare_digest(password.encode(), portal.config.password.encode())
        if not good:
            return portal.render(request, "connexion.html", session, 401, suite=suite,
                                 identifiant=username, erreur="Identifiant ou mot de passe incorrect.")
        response = RedirectResponse(suite, status_code=303)
        portal.set_cookie(response, Session.new(user=username))
        return response

    @app.post("/deconnexion")
    async def logout(request: Request) -> Response:
        """End the session (CSRF-checked so another site cannot log the agent out)."""
        form = await request.form(max_files=0, max_fields=5)
        session = portal.session(request)
        if session is None or not session.csrf_ok(form.get(CSRF_FIELD)):
            return PlainTextResponse("Jeton de sécurité invalide.", status_code=403)
        response = RedirectResponse("/connexion", status_code=303)
        portal.set_cookie(response, Session.new())
        return response

    @app.get("/demandes/nouvelle", response_class=HTMLResponse)
    async def new_form(request: Request) -> Response:
        """An empty form (shuffled anew on every load in shuffle mode)."""
        return portal.form_page(request, portal.user_session(request))

    @app.post("/demandes/nouvelle", response_class=HTMLResponse)
    async def submit(request: Request) -> Response:
        """Validate, store, then redirect to the confirmation page (Post/Redirect/Get)."""
        session = portal.user_session(request)
        await portal.maybe_slow()
        limit = portal.config.max_upload_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit + 1024 * 1024:
            return portal.render(request, "erreur.html", session, 413, titre="Fichier trop volumineux",
                                 message=f"La pièce justificative dépasse {limit // (1024 * 1024)} Mo.")
        async with request.form(max_files=2, max_fields=40) as form:  # closes spooled uploads
            return await portal.handle_submission(request, session, form)

    @app.get("/demandes/{reference}/confirmation", response_class=HTMLResponse)
    async def confirmation(request: Request, reference: str) -> Response:
        """What an agent sees after saving: the portal's own reference for the request."""
        session = portal.user_session(request)
        demande = db.get_demande(portal.db_path, reference)
        if demande is None:
            return portal.render(request, "erreur.html", session, 404, titre="Demande introuvable",
                                 message=f"Aucune demande ne porte la référence {reference}.")
        return portal.render(request, "confirmation.html", session, demande=demande)

    @app.get("/demandes", response_class=HTMLResponse)
    async def search(request: Request, q: str = "") -> Response:
        """Registered requests filtered by dossier number, portal reference or name."""
        session = portal.user_session(request)
        rows = db.search_demandes(portal.db_path, q)
        return portal.render(request, "demandes.html", session, q=q, demandes=rows)

    return app
