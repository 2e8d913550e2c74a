"""SQLite persistence of the portal's requests (stdlib only, independent of the Robocore store)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SCHEMA = """
CREATE TABLE IF NOT EXISTS demandes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reference_portail TEXT UNIQUE,
    numero_dossier TEXT NOT NULL UNIQUE,
    nom_demandeur TEXT NOT NULL,
    type_demande TEXT NOT NULL,
    date_depot TEXT NOT NULL,
    montant TEXT NOT NULL,
    priorite TEXT NOT NULL,
    commentaire TEXT NOT NULL DEFAULT '',
    piece_nom TEXT,
    piece_chemin TEXT,
    piece_taille INTEGER,
    cree_par TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_demandes_nom ON demandes (nom_demandeur);
"""


class DuplicateDossier(Exception):
    """The external dossier number is already registered."""


@dataclass(frozen=True)
class NewDemande:
    """A validated request, ready to be stored."""

    numero_dossier: str
    nom_demandeur: str
    type_demande: str
    date_depot: date
    montant: Decimal
    priorite: str
    commentaire: str
    cree_par: str


def _paris_year(now: datetime) -> int:
    """The year in Paris (UTC's when no time zone database is installed)."""
    try:
        return now.astimezone(ZoneInfo("Europe/Paris")).year
    except ZoneInfoNotFoundError:
        return now.year


@contextmanager
def connect(db_path: Path) -> Iterator[sqlite3.Connection]:
    """One short-lived connection, committed on success, rolled back on error, always closed."""
    conn = sqlite3.connect(db_path, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def init_db(db_path: Path) -> None:
    """Create the file and table if missing (WAL, so tests can read while the portal writes)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)


def insert_demande(db_path: Path, d: NewDemande, piece: tuple[str, str, int] | None = None) -> str:
    """Store a request and return its generated portal reference (DEM-YYYY-NNNNNN)."""
    now = datetime.now(UTC)
    piece_nom, piece_chemin, piece_taille = piece if piece else (None, None, None)
    try:
        with connect(db_path) as conn:
            cur = conn.execute(
                "INSERT INTO demandes (numero_dossier, nom_demandeur, type_demande, date_depot,"
                " montant, priorite, commentaire, piece_nom, piece_chemin, piece_taille,"
                " cree_par, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (d.numero_dossier, d.nom_demandeur, d.type_demande, d.date_depot.isoformat(),
                 str(d.montant), d.priorite, d.commentaire, piece_nom, piece_chemin,
                 piece_taille, d.cree_par, now.isoformat(timespec="seconds")),
            )
            row_id = cur.lastrowid
            # The year of the reference is the agents' year, not UTC's (31 December, 23:30 in Paris).
            reference = f"DEM-{_paris_year(now)}-{row_id:06d}"
            conn.execute("UPDATE demandes SET reference_portail = ? WHERE id = ?", (reference, row_id))
    except sqlite3.IntegrityError as exc:
        if "numero_dossier" in str(exc):
            raise DuplicateDossier(d.numero_dossier) from exc
        raise
    return reference


def dossier_exists(db_path: Path, numero_dossier: str) -> bool:
    """Whether this external dossier number is already stored."""
    with connect(db_path) as conn:
        row = conn.execute("SELECT 1 FROM demandes WHERE numero_dossier = ?", (numero_dossier,))
        return row.fetchone() is not None


def _to_dict(row: sqlite3.Row) -> dict[str, Any]:
    """A row as a plain dict, with the amount as an exact Decimal."""
    item = dict(row)
    item["montant"] = Decimal(item["montant"])
    return item


def get_demande(db_path: Path, reference_portail: str) -> dict[str, Any] | None:
    """One request by its portal reference."""
    with connect(db_path) as conn:
        row = conn.execute("SELECT * FROM demandes WHERE reference_portail = ?",
                           (reference_portail,)).fetchone()
    return _to_dict(row) if row else None


def search_demandes(db_path: Path, query: str = "", limit: int = 200) -> list[dict[str, Any]]:
    """Requests whose dossier number, portal reference or name contains `query`, newest first."""
    pattern = "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with connect(db_path) as conn:
        rows = conn.execute(
            "SELECT * FROM demandes WHERE numero_dossier LIKE :p ESCAPE '\\'"
            " OR reference_portail LIKE :p ESCAPE '\\' OR nom_demandeur LIKE :p ESCAPE '\\'"
            " ORDER BY id DESC LIMIT :n", {"p": pattern, "n": limit},
        ).fetchall()
    return [_to_dict(r) for r in rows]


def count_demandes(db_path: Path | str) -> int:
    """How many requests are stored (0 when the file does not exist yet)."""
    path = Path(db_path)
    if not path.exists():
        return 0
    with connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM demandes").fetchone()[0])


def list_demandes(db_path: Path | str) -> list[dict[str, Any]]:
    """Every stored request as a dict, oldest first (empty when the file does not exist yet)."""
    path = Path(db_path)
    if not path.exists():
        return []
    with connect(path) as conn:
        rows = conn.execute("SELECT * FROM demandes ORDER BY id").fetchall()
    return [_to_dict(r) for r in rows]
