"""The "Nouvelle demande" form: its fields, their layout (plain or shuffled) and server-side validation."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from robocore.demo.db import NewDemande

TYPES_DEMANDE = ("Subvention", "Aide à l'emploi", "Formation", "Investissement")
PRIORITES = ("Normale", "Urgente")
MONTANT_MAX = Decimal("1000000")


@dataclass(frozen=True)
class Field:
    """One input of the form as an agent sees it."""

    key: str  # stable logical name, used in the database and the non-shuffled HTML
    label: str
    kind: str  # text | select | date | amount | radio | textarea | file
    required: bool = True
    hint: str = ""
    max_length: int = 0


FIELDS: tuple[Field, ...] = (
    Field("numero_dossier", "Numéro de dossier", "text",
          hint="Référence du dossier dans le classeur, par exemple SUB-2026-0042.", max_length=40),
    Field("nom_demandeur", "Nom du demandeur", "text", max_length=120),
    Field("type_demande", "Type de demande", "select"),
    Field("date_depot", "Date de dépôt", "date"),
    Field("montant", "Montant demandé (€)", "amount", hint="Par exemple : 1 234,56"),
    Field("priorite", "Priorité", "radio"),
    Field("commentaire", "Commentaire", "textarea", required=False, max_length=2000),
    Field("piece_justificative", "Pièce justificative", "file", required=False,
          hint="Facultatif. PDF, image ou document, 5 Mo au plus."),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}
TOKEN_FIELD = "jeton_formulaire"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Layout:
    """Field order and HTML names/ids for one rendering of the form."""

    order: tuple[str, ...]
    names: dict[str, str]  # logical key -> name/id used in the HTML

    @classmethod
    def plain(cls) -> Layout:
        """Stable ids equal to the logical keys, in the natural order."""
        return cls(tuple(f.key for f in FIELDS), {f.key: f.key for f in FIELDS})

    @classmethod
    def shuffled(cls, rng: random.Random) -> Layout:
        """Random names and a random order, so only the labels stay meaningful."""
        order = [f.key for f in FIELDS]
        rng.shuffle(order)
        # Keep the file input last among the inputs; shuffling it would change nothing useful
        # and a realistic form never puts the upload first.
        order.remove("piece_justificative")
        order.append("piece_justificative")
        names = {f.key: "c" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                      for _ in range(10)) for f in FIELDS}
        return cls(tuple(order), names)

    def fields(self) -> list[Field]:
        """The fields in display order."""
        return [FIELD_BY_KEY[k] for k in self.order]

    def to_payload(self) -> dict[str, object]:
        """What the per-form token carries."""
        return {"order": list(self.order), "names": self.names}

    @classmethod
    def from_payload(cls, payload: dict[str, object] | None) -> Layout | None:
        """Rebuild a layout from a verified token payload, or None when it does not fit the form."""
        if not payload:
            return None
        names, order = payload.get("names"), payload.get("order")
        if not isinstance(names, dict) or set(names) != set(FIELD_BY_KEY):
            return None
        if not isinstance(order, list) or sorted(order) != sorted(FIELD_BY_KEY):
            return None
        return cls(tuple(str(k) for k in order), {str(k): str(v) for k, v in names.items()})


def parse_montant(text: str) -> Decimal:
    """Parse "1234.56", "1 234,56", "1234,56" (and "1.234,56", "€"); raise ValueError with a French message."""
    s = text.strip().replace("€", "").strip()
    if not s:
        raise ValueError("Le montant est obligatoire")
    for space in (" ", "\u00a0", "\u202f", "'"):
        s = s.replace(space, "")
    if "," in s and "." in s:
        # Whichever separator comes last is the decimal one; the other groups thousands.
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    else:
        s = s.replace(",", ".")
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", s):
        raise ValueError("Le montant n'est pas un nombre valide (exemple : 1 234,56)")
    try:
        value = Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - the regex already rules this out
        raise ValueError("Le montant n'est pas un nombre valide (exemple : 1 234,56)") from exc
    if value <= 0:
        raise ValueError("Le montant doit être supérieur à 0")
    if value > MONTANT_MAX:
        raise ValueError("Le montant ne doit pas dépasser 1 000 000 €")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("Le montant ne peut pas avoir plus de deux décimales")
    return value.quantize(Decimal("0.01"))


def parse_date(text: str) -> date:
    """Parse the date input's ISO value, or a French JJ/MM/AAAA typed by hand."""
    s = text.strip()
    if not s:
        raise ValueError("La date de dépôt est obligatoire")
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            value = datetime.strptime(s, fmt).date()
        except ValueError:
            continue
        if not 1900 <= value.year <= 2100:
            break
        return value
    raise ValueError("La date de dépôt n'est pas valide (format attendu : JJ/MM/AAAA)")


def _text(raw: dict[str, str], key: str, errors: dict[str, str], empty_msg: str) -> str:
    """A trimmed text value, recording an error when required and empty or too long."""
    field = FIELD_BY_KEY[key]
    value = raw.get(key, "").strip()
    if field.required and not value:
        errors[key] = empty_msg
    elif field.max_length and len(value) > field.max_length:
        errors[key] = f"{field.label} : {field.max_length} caractères au plus"
    elif any(ord(c) < 32 and c not in "\r\n\t" for c in value):
        errors[key] = f"{field.label} : caractères non autorisés"
    return value


def validate(raw: dict[str, str], user: str) -> tuple[NewDemande | None, dict[str, str]]:
    """Check the submitted values (keyed by logical name); return the request or the errors per field."""
    errors: dict[str, str] = {}
    numero = _text(raw, "numero_dossier", errors, "Le numéro de dossier est obligatoire")
    nom = _text(raw, "nom_demandeur", errors, "Le nom du demandeur est obligatoire")
    commentaire = _text(raw, "commentaire", errors, "")
    type_demande = raw.get("type_demande", "")
    if type_demande not in TYPES_DEMANDE:
        errors["type_demande"] = "Choisissez un type de demande"
    priorite = raw.get("priorite", "")
    if priorite not in PRIORITES:
        errors["priorite"] = "Choisissez une priorité"
    date_depot: date | None = None
    try:
        date_depot = parse_date(raw.get("date_depot", ""))
    except ValueError as exc:
        errors["date_depot"] = str(exc)
    montant: Decimal | None = None
    try:
        montant = parse_montant(raw.get("montant", ""))
    except ValueError as exc:
        errors["montant"] = str(exc)
    if errors or date_depot is None or montant is None:
        return None, errors
    return NewDemande(numero, nom, type_demande, date_depot, montant, priorite,
                      commentaire.replace("\r\n", "\n"), user), {}
