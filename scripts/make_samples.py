"""Write the sample workbooks of the shipped robots (deterministic: same files every time).

They are messy on purpose, like files agents really have: a title row above the header,
trailing spaces in headers and keys, lower-case keys, amounts typed as French text.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

ROOT = Path(__file__).resolve().parents[1] / "robots"
NAMES = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
         "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard"]
FIRST = ["Camille", "Lucie", "Hugo", "Léa", "Louis", "Chloé", "Jules", "Inès", "Nathan", "Manon"]
TYPES = ["Subvention", "Aide à l'emploi", "Formation", "Investissement"]
INVALID_ROW = 37  # the one request whose amount the portal refuses (negative)


def french(amount: float) -> str:
    return f"{amount:,.2f}".replace(",", "\u202f").replace(".", ",")


def demandes(path: Path) -> None:
    rng = random.Random(2026)
    wb = Workbook()
    ws = wb.active
    ws.title = "Demandes"
    ws["A1"] = "Demandes de subvention — campagne 2026 (DDETS Haute-Garonne)"
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells("A1:G1")
    ws.append([])
    ws.append(["Numéro de dossier", "Nom du demandeur ", "Type", "Date de dépôt", "Montant", "Priorité ",
               "Commentaire"])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    start = date(2026, 3, 2)
    for i in range(1, 51):
        amount = round(rng.uniform(500, 90_000), 2)
        value: object = french(amount) if i % 6 == 0 else amount
        if i == INVALID_ROW:
            value = -150.0
        name = f"{rng.choice(FIRST)} {rng.choice(NAMES)}"
        ws.append([f"SUB-2026-{i:04d} " if i % 9 == 0 else f"SUB-2026-{i:04d}", name, rng.choice(TYPES),
                   start + timedelta(days=rng.randint(0, 120)), value,
                   "Urgente" if i % 7 == 0 else "Normale", "Dossier complet" if i % 4 else ""])
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 24
    for row in ws.iter_rows(min_row=4, min_col=4, max_col=4):
        row[0].number_format = "DD/MM/YYYY"
    wb.save(path)


def ledgers(left: Path, right: Path) -> None:
    rng = random.Random(1607)
    gl = Workbook()
    ws = gl.active
    ws.title = "Grand livre"
    ws.append(["Référence", "Date", "Libellé", "Montant"])
    bank = Workbook()
    wr = bank.active
    wr.title = "Relevé"
    wr.append(["Export bancaire — compte 0001234567"])
    wr.append(["Réf. opération", "Date valeur", "Libellé banque", "Montant"])
    start = date(2026, 9, 1)
    for i in range(1, 121):
        ref = f"VIR-2026-{i:05d}"
        day = start + timedelta(days=rng.randint(0, 29))
        amount = round(rng.uniform(20, 15_000), 2)
        label = rng.choice(["Subvention", "Remboursement frais", "Paiement fournisseur", "Régie"])
        if i not in (17, 58, 93):  # missing from the bank statement
            bank_amount: object = amount
            if i in (11, 42, 77):
                bank_amount = round(amount + rng.choice([-10, 0.5, 120]), 2)  # amount differs
            if i % 10 == 5:
                bank_amount = french(float(bank_amount)) + " €"  # typed as French text
            bank_ref = f"  {ref.lower()} " if i % 8 == 0 else ref  # stray spaces, lower case
            wr.append([bank_ref, day + timedelta(days=rng.randint(0, 2)), f"{label.upper()} {i}", bank_amount])
        ws.append([ref, day, f"{label} n° {i}", amount])
    for j in range(1, 5):  # on the statement, not in the ledger
        wr.append([f"FRAIS-2026-{j:03d}", start + timedelta(days=j), "FRAIS BANCAIRES", round(-4.5 * j, 2)])
    wr.append(["VIR-2026-00030", start, "DOUBLON", 10.0])  # a duplicate key on the bank side
    gl.save(left)
    bank.save(right)


if __name__ == "__main__":
    demandes(ROOT / "saisie-demandes" / "demandes.xlsx")
    ledgers(ROOT / "rapprochement-paiements" / "grand-livre.xlsx",
            ROOT / "rapprochement-paiements" / "releve-bancaire.xlsx")
    print("sample workbooks written")
