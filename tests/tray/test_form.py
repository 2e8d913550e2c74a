"""robocore.tray.form: the launch form from a robot's inputs, its checks and what it remembers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from robocore.tray.form import LaunchForm, check, form_from_detail, remembered
from robocore.tray.prefs import Prefs


def detail(**overrides: Any) -> dict[str, Any]:
    """A robot with one input of each type robocore.inputs knows, plus bounds and a secret."""
    inputs: dict[str, Any] = {
        "classeur": {"type": "file", "label": "Classeur", "accept": [".xlsx", ".ods"], "required": True},
        "jour": {"type": "date", "label": "Jour de traitement", "default": "2026-12-01"},
        "mode": {"type": "choice", "label": "Mode", "choices": ["test", "réel"], "default": "test"},
        "lignes": {"type": "number", "label": "Lignes au plus", "minimum": 1, "maximum": 500, "default": 50},
        "note": {"type": "text", "label": "Note", "required": False, "help": "Pour le journal"},
        "portail": {"type": "url", "label": "Adresse du portail", "default": "http://127.0.0.1:8765"},
        "envoyer": {"type": "bool", "label": "Envoyer les courriels", "default": "oui"},
        "code": {"type": "text", "label": "Code d'accès", "secret": True, "required": False},
    }
    inputs.update(overrides)
    return {"robot": "saisie", "title": "Saisie", "version": 2, "inputs": inputs}


@pytest.fixture
def form() -> LaunchForm:
    return form_from_detail(detail())


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "demandes.xlsx"
    path.write_bytes(b"PK")
    return path


def test_one_field_per_input_of_every_type(form: LaunchForm) -> None:
    """Each input becomes a field of its kind, with its label, help, accept, choices and bounds."""
    kinds = {f.name: f.kind for f in form.fields}
    assert kinds == {"classeur": "file", "jour": "date", "mode": "choice", "lignes": "number", "note": "text",
                     "portail": "url", "envoyer": "bool", "code": "secret"}
    assert form.field("classeur").accept == (".xlsx", ".ods")
    assert form.field("classeur").file_filter() == "Classeur (*.xlsx *.ods)"
    assert (form.field("lignes").minimum, form.field("lignes").maximum) == (1, 500)
    assert form.field("note").help == "Pour le journal" and form.version == 2


def test_unknown_type_is_text() -> None:
    """An input type this tray does not know yet is shown as text rather than failing."""
    assert form_from_detail(detail(x={"type": "colour"})).field("x").kind == "text"


def test_defaults_filled_and_typed(form: LaunchForm) -> None:
    """Defaults come typed: a date, a number, a boolean from « oui »."""
    initial = form.initial()
    assert initial["jour"] == dt.date(2026, 12, 1) and initial["lignes"] == 50 and initial["envoyer"] is True
    assert initial["mode"] == "test" and initial["classeur"] is None


def test_valid_values(form: LaunchForm, book: Path) -> None:
    """Good values are typed for the API; the file goes to the uploads."""
    checked = check(form, {"classeur": str(book), "jour": dt.date(2026, 12, 2), "mode": "réel", "lignes": "1 2,5",
                           "note": " ", "portail": "https://p.fr", "envoyer": False, "code": "s3cret"})
    assert checked.ok, checked.errors
    assert checked.files == {"classeur": book.resolve()}
    assert checked.inputs == {"jour": "2026-12-02", "mode": "réel", "lignes": 12.5, "portail": "https://p.fr",
                              "envoyer": False, "code": "s3cret"}


@pytest.mark.parametrize(("name", "value", "message"), [
    ("classeur", "", "« Classeur »\xa0: ce champ est obligatoire"),
    ("classeur", "/nulle/part.xlsx", "« Classeur »\xa0: fichier introuvable « /nulle/part.xlsx »"),
    ("jour", "32/13/2026", "« Jour de traitement »\xa0: une date est attendue (JJ/MM/AAAA), pas « 32/13/2026 »"),
    ("mode", "autre", "« Mode »\xa0: « autre » n'est pas un des choix proposés"),
    ("lignes", "beaucoup", "« Lignes au plus »\xa0: un nombre est attendu, pas « beaucoup »"),
    ("lignes", 501, "« Lignes au plus »\xa0: 501 n'est pas entre 1 et 500"),
    ("lignes", "nan", "« Lignes au plus »\xa0: un nombre est attendu, pas « nan »"),
    ("portail", "ftp://p", "« Adresse du portail »\xa0: une adresse commençant par http:// ou https:// est attendue, "
                           "pas « ftp://p »"),
    ("envoyer", "peut-être", "« Envoyer les courriels »\xa0: oui ou non est attendu, pas « peut-être »"),
    ("note", "x" * 10_001, "« Note »\xa0: 10001 caractères, 10000 au plus"),
])
def test_french_messages_name_the_field(form: LaunchForm, book: Path, name: str, value: Any, message: str) -> None:
    """Each wrong value gets a French message naming the field by its label, before any launch."""
    values = {"classeur": str(book), name: value}
    assert check(form, values).errors == {name: message}


def test_wrong_extension(form: LaunchForm, tmp_path: Path) -> None:
    """A file outside `accept` is refused, naming the extensions expected."""
    other = tmp_path / "liste.csv"
    other.write_text("a")
    assert check(form, {"classeur": str(other)}).errors["classeur"] == (
        "« Classeur »\xa0: un fichier .xlsx, .ods est attendu, pas « liste.csv »")


def test_english_messages(form: LaunchForm) -> None:
    """The same checks in English when the language is English."""
    from robocore.i18n import use_language
    with use_language("en"):
        assert check(form, {}).errors["classeur"] == "'Classeur': this field is required"


def test_bounds_one_side(book: Path) -> None:
    """Only a minimum, or only a maximum: the message says which."""
    low = form_from_detail(detail(lignes={"type": "number", "label": "N", "minimum": 1}))
    high = form_from_detail(detail(lignes={"type": "number", "label": "N", "maximum": 9}))
    assert check(low, {"classeur": str(book), "lignes": 0}).errors["lignes"] == "« N »\xa0: 0 est sous le minimum 1"
    assert check(high, {"classeur": str(book), "lignes": 10}).errors["lignes"] == (
        "« N »\xa0: 10 dépasse le maximum 9")


def test_remembered_values_per_robot(form: LaunchForm, book: Path, tmp_path: Path) -> None:
    """The last values are kept per robot in the config folder — never the secret, only the file's folder —
    and fill the next form when still valid."""
    prefs = Prefs(tmp_path / "tray.json")
    checked = check(form, {"classeur": str(book), "jour": "03/12/2026", "mode": "réel", "lignes": 70,
                           "portail": "https://p.fr", "envoyer": False, "code": "s3cret"})
    prefs.remember("saisie", remembered(form, checked))
    kept = prefs.values("saisie")
    assert "code" not in kept and "s3cret" not in (tmp_path / "tray.json").read_text()
    assert kept["classeur@folder"] == str(book.parent.resolve()) and "classeur" not in kept
    initial = form.initial(kept)
    assert (initial["mode"], initial["lignes"], initial["envoyer"]) == ("réel", 70, False)
    assert initial["jour"] == dt.date(2026, 12, 3) and prefs.values("autre") == {}


def test_remembered_values_no_longer_valid(form: LaunchForm) -> None:
    """A remembered choice that no longer exists, or a number now out of bounds, gives way to the default."""
    initial = form.initial({"mode": "ancien", "lignes": 9999, "jour": "n'importe"})
    assert (initial["mode"], initial["lignes"], initial["jour"]) == ("test", 50, dt.date(2026, 12, 1))


def test_damaged_prefs_file(tmp_path: Path) -> None:
    """A damaged preferences file is ignored rather than stopping the tray."""
    path = tmp_path / "tray.json"
    path.write_text("{not json")
    assert Prefs(path).values("x") == {} and Prefs(path).pinned() == set()
    Prefs(path).pin("x")
    assert Prefs(path).pinned() == {"x"}
