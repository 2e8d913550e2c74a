"""The demo portal, served by a real uvicorn thread and driven by httpx and Chromium."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from robocore.demo import PortalConfig, count_demandes, list_demandes, run_portal
from tests.conftest import need

USER, PASSWORD = "agent.demo", "demo-portail-2026"
FORM_URL = "/demandes/nouvelle"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VALID = {"numero_dossier": "SUB-2026-0001", "nom_demandeur": "Mairie de Saint-Orens",
         "type_demande": "Subvention", "date_depot": "2026-03-14", "montant": "1 234,56",
         "priorite": "Urgente", "commentaire": "Dossier complet."}


class FormParser(HTMLParser):
    """Collects labels (in document order), controls and error paragraphs of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: list[tuple[str, str]] = []  # (for, text)
        self.controls: dict[str, dict[str, str]] = {}  # id -> attributes
        self.errors: dict[str, str] = {}  # id -> text
        self.hidden: dict[str, str] = {}
        self._open: tuple[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "label":
            self._open, self._text = ("label", a.get("for", "")), []
        elif tag == "p" and "erreur" in a.get("class", "").split():
            self._open, self._text = ("erreur", a.get("id", "")), []
        elif tag in ("input", "select", "textarea"):
            if a.get("type") == "hidden":
                self.hidden[a["name"]] = a.get("value", "")
            elif "id" in a:
                self.controls[a["id"]] = a

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag in ("label", "p"):
            kind, ref = self._open
            text = "".join(self._text).strip()
            if kind == "label":
                self.labels.append((ref, text))
            else:
                self.errors[ref] = text
            self._open = None


def parse(html: str) -> FormParser:
    """Parse a page."""
    parser = FormParser()
    parser.feed(html)
    return parser


def login(client: httpx.Client) -> None:
    """Log in as the demo agent through the real login form."""
    token = parse(client.get("/connexion").text).hidden["csrf_token"]
    resp = client.post("/connexion", data={"csrf_token": token, "identifiant": USER,
                                           "mot_de_passe": PASSWORD})
    assert resp.status_code == 303


def submit(client: httpx.Client, values: dict[str, str], files: dict | None = None) -> httpx.Response:
    """Load the form (plain mode) and post `values` with its CSRF token."""
    token = parse(client.get(FORM_URL).text).hidden["csrf_token"]
    return client.post(FORM_URL, data={"csrf_token": token, **values}, files=files)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, PortalConfig]]:
    """One plain portal per module, on a free port, with its own data folder."""
    config = PortalConfig(data_dir=tmp_path_factory.mktemp("portail"))
    with run_portal(config) as url:
        yield url, config


@pytest.fixture()
def client(portal: tuple[str, PortalConfig]) -> Iterator[httpx.Client]:
    """A logged-in httpx client."""
    with httpx.Client(base_url=portal[0], timeout=30) as c:
        login(c)
        yield c


@pytest.fixture(scope="module")
def shuffled_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, PortalConfig]]:
    """A portal in shuffle mode, seeded so two loads always differ."""
    config = PortalConfig(data_dir=tmp_path_factory.mktemp("portail-melange"), shuffle=True, seed=7)
    with run_portal(config) as url:
        yield url, config


def test_pages_redirect_anonymous_visitors_to_login(portal: tuple[str, PortalConfig]) -> None:
    """Every page but the login page sends an anonymous visitor to /connexion, remembering the target."""
    with httpx.Client(base_url=portal[0]) as c:
        for path in ("/", FORM_URL, "/demandes?q=x", "/demandes/DEM-2026-000001/confirmation"):
            resp = c.get(path)
            assert resp.status_code == 303, path
            assert resp.headers["location"].startswith("/connexion")
        assert "Connexion à votre espace agent" in c.get("/connexion").text


def test_login_checks_csrf_token_and_password(portal: tuple[str, PortalConfig]) -> None:
    """Login is refused without a CSRF token, with a wrong one, with another session's one and with a wrong password."""
    url = portal[0]
    creds = {"identifiant": USER, "mot_de_passe": PASSWORD}
    with httpx.Client(base_url=url) as c, httpx.Client(base_url=url) as other:
        token = parse(c.get("/connexion").text).hidden["csrf_token"]
        other_token = parse(other.get("/connexion").text).hidden["csrf_token"]
        for data in (creds, {**creds, "csrf_token": "faux"}, {**creds, "csrf_token": other_token}):
            resp = c.post("/connexion", data=data)
            assert resp.status_code == 403
            assert "jeton de sécurité est invalide" in resp.text
            assert c.get(FORM_URL).status_code == 303  # still anonymous
        resp = c.post("/connexion", data={**creds, "csrf_token": token, "mot_de_passe": "mauvais"})
        assert resp.status_code == 401
        assert parse(resp.text).hidden.get("csrf_token")
        assert "Identifiant ou mot de passe incorrect." in resp.text
        resp = c.post("/connexion", data={**creds, "csrf_token": token, "suite": "/demandes"})
        assert resp.status_code == 303 and resp.headers["location"] == "/demandes"
        assert c.get(FORM_URL).status_code == 200
        # The session was rotated on login: the anonymous CSRF token is no longer accepted.
        assert c.post(FORM_URL, data={**VALID, "csrf_token": token}).status_code == 403


def test_valid_submission_is_stored_and_confirmed(client: httpx.Client, portal: tuple[str, PortalConfig]) -> None:
    """A valid form lands in SQLite with its attachment on disk, then Post/Redirect/Get shows the portal reference."""
    config = portal[1]
    before = count_demandes(config.database)
    resp = submit(client, VALID, files={"piece_justificative": ("devis mars.pdf", b"%PDF-1.4 demo", "application/pdf")})
    assert resp.status_code == 303
    assert re.fullmatch(r"/demandes/DEM-\d{4}-\d{6}/confirmation", resp.headers["location"])
    page = client.get(resp.headers["location"])
    assert "Demande enregistrée" in page.text
    reference = re.search(r'id="reference-portail">(DEM-\d{4}-\d{6})<', page.text).group(1)
    assert count_demandes(config.database) == before + 1
    row = next(r for r in list_demandes(config.database) if r["numero_dossier"] == VALID["numero_dossier"])
    assert row["reference_portail"] == reference
    assert row["montant"] == Decimal("1234.56")
    assert (row["nom_demandeur"], row["type_demande"], row["date_depot"], row["priorite"]) == (
        "Mairie de Saint-Orens", "Subvention", "2026-03-14", "Urgente")
    assert row["created_at"] and row["cree_par"] == USER
    assert row["piece_nom"] == "devis mars.pdf"
    assert (config.uploads_dir / row["piece_chemin"]).read_bytes() == b"%PDF-1.4 demo"


@pytest.mark.parametrize("montant", ["1234.56", "1 234,56", "1234,56", "1\u202f234,56 €"])
def test_amount_formats_are_accepted(client: httpx.Client, portal: tuple[str, PortalConfig], montant: str) -> None:
    """Amounts typed with a dot, a comma or grouped thousands are all stored as the same exact value."""
    numero = f"FMT-{abs(hash(montant))}"
    assert submit(client, {**VALID, "numero_dossier": numero, "montant": montant}).status_code == 303
    row = next(r for r in list_demandes(portal[1].database) if r["numero_dossier"] == numero)
    assert row["montant"] == Decimal("1234.56")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("numero_dossier", "  ", "Le numéro de dossier est obligatoire"),
    ("nom_demandeur", "", "Le nom du demandeur est obligatoire"),
    ("type_demande", "Autre", "Choisissez un type de demande"),
    ("date_depot", "", "La date de dépôt est obligatoire"),
    ("date_depot", "31/02/2026", "La date de dépôt n'est pas valide"),
    ("montant", "0", "Le montant doit être supérieur à 0"),
    ("montant", "-12,50", "Le montant doit être supérieur à 0"),
    ("montant", "1 000 000,01", "Le montant ne doit pas dépasser 1 000 000 €"),
    ("montant", "douze", "Le montant n'est pas un nombre valide"),
    ("montant", "12,345", "Le montant ne peut pas avoir plus de deux décimales"),
    ("priorite", "", "Choisissez une priorité"),
])
def test_validation_error_is_shown_next_to_its_field(client: httpx.Client, portal: tuple[str, PortalConfig],
                                                      field: str, value: str, message: str) -> None:
    """A faulty field gets its own error paragraph right after it, the values are kept, and nothing is stored."""
    before = count_demandes(portal[1].database)
    values = {**VALID, "numero_dossier": "ERR-001", field: value}
    resp = submit(client, values)
    assert resp.status_code == 422
    page = parse(resp.text)
    assert list(page.errors) == [f"erreur-{field}"]
    assert page.errors[f"erreur-{field}"].startswith(message)
    control_id = f"{field}-1" if field == "priorite" else field
    if field != "priorite":
        assert f"erreur-{field}" in page.controls[control_id]["aria-describedby"]
        assert page.controls[control_id]["aria-invalid"] == "true"
    assert page.controls["nom_demandeur"].get("value") == values["nom_demandeur"]
    assert page.controls["montant"].get("value") == values["montant"]
    assert "Le formulaire contient 1 erreur" in resp.text
    assert count_demandes(portal[1].database) == before


def test_empty_form_lists_every_required_field(client: httpx.Client, portal: tuple[str, PortalConfig]) -> None:
    """Submitting nothing reports each required field once and stores nothing."""
    before = count_demandes(portal[1].database)
    resp = submit(client, {})
    assert resp.status_code == 422
    assert set(parse(resp.text).errors) == {f"erreur-{k}" for k in (
        "numero_dossier", "nom_demandeur", "type_demande", "date_depot", "montant", "priorite")}
    assert count_demandes(portal[1].database) == before


def test_form_post_requires_csrf_token(client: httpx.Client, portal: tuple[str, PortalConfig]) -> None:
    """A logged-in POST without the session's CSRF token is refused and stores nothing."""
    before = count_demandes(portal[1].database)
    for token in ({}, {"csrf_token": "faux"}):
        resp = client.post(FORM_URL, data={**VALID, "numero_dossier": "CSRF-1", **token})
        assert resp.status_code == 403
    assert count_demandes(portal[1].database) == before


def test_duplicate_dossier_number_is_refused(client: httpx.Client, portal: tuple[str, PortalConfig]) -> None:
    """A second request with an already registered dossier number is refused next to that field."""
    values = {**VALID, "numero_dossier": "DUP-42"}
    assert submit(client, values).status_code == 303
    before = count_demandes(portal[1].database)
    resp = submit(client, {**values, "nom_demandeur": "Quelqu'un d'autre"})
    assert resp.status_code == 422
    assert parse(resp.text).errors == {"erreur-numero_dossier": "Ce numéro de dossier est déjà enregistré"}
    assert count_demandes(portal[1].database) == before


def test_search_finds_by_dossier_number_and_name(client: httpx.Client) -> None:
    """The search page lists a registered request in a table, found by dossier number or by part of the name."""
    assert submit(client, {**VALID, "numero_dossier": "RECH-777", "nom_demandeur": "Association Les Tilleuls"}
                  ).status_code == 303
    headers = ["Numéro de dossier", "Référence portail", "Nom", "Type", "Date", "Montant", "Priorité"]
    for q in ("RECH-777", "tilleuls"):
        html = client.get("/demandes", params={"q": q}).text
        assert re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', html) == headers
        rows = re.findall(r"<tr>\s*<td>([^<]+)</td>", html)
        assert rows == ["RECH-777"]
        assert "Association Les Tilleuls" in html and "1\u202f234,56\u00a0€" in html and "14/03/2026" in html
    html = client.get("/demandes", params={"q": "INCONNU-0"}).text
    assert "Aucune demande ne correspond à « INCONNU-0 »." in html and "<table" not in html


def test_upload_over_the_limit_is_refused(client: httpx.Client, portal: tuple[str, PortalConfig]) -> None:
    """A file one byte over 5 MB is refused next to its field, nothing is stored and no file is left on disk."""
    config = portal[1]
    before, files_before = count_demandes(config.database), set(config.uploads_dir.iterdir())
    big = b"x" * (5 * 1024 * 1024 + 1)
    resp = submit(client, {**VALID, "numero_dossier": "GROS-1"},
                  files={"piece_justificative": ("scan.pdf", big, "application/pdf")})
    assert resp.status_code == 422
    assert parse(resp.text).errors == {
        "erreur-piece_justificative": "Le fichier dépasse la taille maximale autorisée (5 Mo)"}
    huge = submit(client, {**VALID, "numero_dossier": "GROS-2"},
                  files={"piece_justificative": ("scan.pdf", big * 2, "application/pdf")})
    assert huge.status_code == 413
    assert count_demandes(config.database) == before
    assert set(config.uploads_dir.iterdir()) == files_before


def test_slow_mode_delays_form_posts(tmp_path: Path) -> None:
    """With slow_rate=1 every form POST waits slow_ms before answering; GETs do not."""
    with run_portal(PortalConfig(data_dir=tmp_path, slow_rate=1.0, slow_ms=400)) as url, \
            httpx.Client(base_url=url) as c:
        token = parse(c.get("/connexion").text).hidden["csrf_token"]
        start = time.monotonic()
        c.post("/connexion", data={"csrf_token": token, "identifiant": USER, "mot_de_passe": PASSWORD})
        assert time.monotonic() - start >= 0.4


def shuffled_form(client: httpx.Client) -> tuple[FormParser, list[str]]:
    """Load the shuffled form; return it and its label texts in display order."""
    page = parse(client.get(FORM_URL).text)
    return page, [text for _, text in page.labels]


def test_shuffle_mode_changes_ids_and_order_but_keeps_labels(shuffled_portal: tuple[str, PortalConfig]) -> None:
    """Two loads differ in ids, names and field order; each label still points at its control; posting works."""
    url, config = shuffled_portal
    with httpx.Client(base_url=url) as c:
        login(c)
        first, order1 = shuffled_form(c)
        second, order2 = shuffled_form(c)
        assert sorted(order1) == sorted(order2)
        assert order1 != order2
        ids1 = {text: ref for ref, text in first.labels}
        ids2 = {text: ref for ref, text in second.labels}
        assert set(ids1) >= {"Numéro de dossier", "Nom du demandeur", "Type de demande", "Date de dépôt",
                             "Montant demandé (€)", "Normale", "Urgente", "Commentaire", "Pièce justificative"}
        assert not set(ids1.values()) & set(ids2.values())
        assert "numero_dossier" not in first.controls
        for ref in ids1.values():
            assert ref in first.controls  # each label's `for` names a real control
        # Fill the first rendering by label; the server maps the random names back.
        by_label = {"Numéro de dossier": "MEL-1", "Nom du demandeur": "Commune d'Albi",
                    "Type de demande": "Formation", "Date de dépôt": "2026-01-05", "Montant demandé (€)": "99,90"}
        data = {first.controls[ids1[label]]["name"]: value for label, value in by_label.items()}
        data[first.controls[ids1["Normale"]]["name"]] = "Normale"
        resp = c.post(FORM_URL, data={**first.hidden, **data})
        assert resp.status_code == 303
        # Logical names are not accepted by a shuffled form without its token.
        stale = c.post(FORM_URL, data={"csrf_token": first.hidden["csrf_token"], **VALID})
        assert stale.status_code == 400
    rows = [r for r in list_demandes(config.database) if r["numero_dossier"] == "MEL-1"]
    assert [(r["nom_demandeur"], r["type_demande"], r["priorite"], r["montant"]) for r in rows] == [
        ("Commune d'Albi", "Formation", "Normale", Decimal("99.90"))]


@pytest.mark.browser
def test_chromium_fills_shuffled_form_by_labels(shuffled_portal: tuple[str, PortalConfig]) -> None:
    """Real Chromium logs in and submits the shuffled form using only labels and roles, then sees the confirmation."""
    need(Path(CHROMIUM).exists(), f"Chromium absent de {CHROMIUM} — apt-get install chromium")
    from playwright import sync_api
    url, config = shuffled_portal
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1300}, locale="fr-FR")
            page.goto(f"{url}{FORM_URL}")
            page.get_by_label("Identifiant").fill(USER)
            page.get_by_label("Mot de passe").fill(PASSWORD)
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_url(f"**{FORM_URL}")
            page.get_by_label("Numéro de dossier").fill("NAV-2026-01")
            page.get_by_label("Nom du demandeur").fill("Syndicat mixte du Lauragais")
            page.get_by_label("Type de demande").select_option("Investissement")
            page.get_by_label("Date de dépôt").fill("2026-02-20")
            page.get_by_label("Montant demandé (€)").fill("12 500,00")
            page.get_by_label("Urgente").check()
            page.get_by_label("Commentaire").fill("Saisi par le robot de démonstration.")
            page.get_by_label("Pièce justificative").set_input_files(
                {"name": "devis.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"})
            page.screenshot(path="/tmp/portal-form.png", full_page=True)
            page.get_by_role("button", name="Enregistrer").click()
            page.wait_for_url("**/confirmation")
            assert page.get_by_role("heading", name="Demande enregistrée").is_visible()
            reference = page.locator("#reference-portail").inner_text()
            page.screenshot(path="/tmp/portal-confirmation.png", full_page=True)
        finally:
            browser.close()
    row = next(r for r in list_demandes(config.database) if r["numero_dossier"] == "NAV-2026-01")
    assert row["reference_portail"] == reference
    assert (row["type_demande"], row["priorite"], row["montant"]) == ("Investissement", "Urgente", Decimal("12500.00"))
    assert row["piece_nom"] == "devis.pdf"
