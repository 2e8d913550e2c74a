"""The pages every public service's site links from its footer: accessibility statement, legal notice, personal
data and cookies (`/accessibilite`, `/mentions-legales`, `/donnees-personnelles`). Open to everyone, signed in
or not: they describe the service, not its figures.

The DSFR theme requires these links in its footer (State services); the neutral theme shows them too.
The accessibility status is "non conforme" until the deployment has an RGAA audit: the automated checks
(axe-core on every page in the tests) are not an audit, and the statement says so.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from robocore.settings import get_settings
from robocore.web import formatting, pages

router = APIRouter(include_in_schema=False)
SECTIONS = ("accessibilite", "mentions-legales", "donnees-personnelles")


def _legal(request: Request, section: str) -> HTMLResponse:
    person = getattr(request.state, "person", None)  # a signed-in person's name in the header, when known
    hours = get_settings().session_hours
    shown = formatting.format_number(hours, pages.language(request), 0 if hours == int(hours) else 1)
    return pages.page(request, "legal.html", section=section, session_hours=shown,
                      user=getattr(person, "login", None))


@router.get("/accessibilite", response_class=HTMLResponse)
async def accessibility(request: Request) -> HTMLResponse:
    """The accessibility statement (RGAA): status, what is checked, how to report a barrier."""
    return _legal(request, "accessibilite")


@router.get("/mentions-legales", response_class=HTMLResponse)
async def legal_notice(request: Request) -> HTMLResponse:
    """Who publishes the service, the software and its licences."""
    return _legal(request, "mentions-legales")


@router.get("/donnees-personnelles", response_class=HTMLResponse)
async def personal_data(request: Request) -> HTMLResponse:
    """What is kept about people, and the only cookie (strictly necessary: no consent banner)."""
    return _legal(request, "donnees-personnelles")
