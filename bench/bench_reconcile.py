"""Benchmark of reconcile.tables on two 100,000-row workbooks against two baselines.

(a) the reconcile.tables action given both workbooks, as the sample robot does: it reads
    them at once (one thread each), reconciles and writes its report; (a2) the same after
    two excel.read_table steps, one file after the other;
(b) the floor: python-calamine reads + a plain dict join + openpyxl write-only of the gaps;
(c) the usual data-science way: pandas.read_excel(engine="openpyxl") + datacompy
    (a pandas merge when datacompy is not installed).
Targets: (a) ≤ 1.5 × (b) and (c) / (a) ≥ 8. Prints medians of runs taken in turns (3 by default).

    python bench/bench_reconcile.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def make_workbooks(folder: Path, rows: int) -> tuple[Path, Path]:
    """A ledger and a bank statement: 2 % amount gaps, 1 % missing, 1 % extra, a few duplicates."""
    from openpyxl import Workbook

    rng = random.Random(42)
    start = dt.date(2024, 1, 1)
    ledger = [(f"FAC-{i:06d}", start + dt.timedelta(days=i % 365), f"Facture client {i % 997}",
               round(rng.uniform(-5000, 5000), 2)) for i in range(rows)]
    bank = []
    for ref, day, label, amount in ledger:
        draw = rng.random()
        if draw < 0.01:
            continue  # missing from the statement
        if draw < 0.03:
            amount = round(amount + rng.choice([-1, 1]) * rng.uniform(1, 100), 2)
        bank.append((f" {ref.lower()} ", day, f"VIR {label}", amount))
    bank += [(f"EXT-{i:06d}", start, "Frais bancaires", -12.5) for i in range(rows // 100)]
    bank += [bank[i] for i in range(0, rows // 1000)]  # a few duplicated lines
    paths = []
    for name, data, header in (("grand_livre.xlsx", ledger, ["Référence", "Date", "Libellé", "Montant"]),
                               ("releve.xlsx", bank, ["Réf. ", "Date opération", "Libellé", "Montant"])):
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Données")
        sheet.append(["Export comptable"])  # a title line, as real exports have
        sheet.append(header)
        for line in data:
            sheet.append(list(line))
        workbook.save(folder / name)
        paths.append(folder / name)
    return paths[0], paths[1]


def run_robocore(left: Path, right: Path, out: Path, separate_reads: bool = False) -> dict:
    from robocore.actions.excel import read_table
    from robocore.actions.reconcile import tables
    from robocore.context import Context

    ctx = Context(run_id="bench", robot="bench", robot_dir=out.parent, run_dir=out.parent)
    lt, rt = (read_table(ctx, path=left), read_table(ctx, path=right)) if separate_reads else (left, right)
    return tables(ctx, left=lt, right=rt, left_key="Référence", right_key="Réf.",
                  compare={"Montant": "Montant", "Date": "Date opération"}, output=out)


def run_baseline(left: Path, right: Path, out: Path) -> int:
    import python_calamine as pc
    from openpyxl import Workbook

    def load(path: Path) -> list[list]:
        return pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()[2:]

    lrows, rrows = load(left), load(right)
    by_key = {str(r[0]).strip().upper(): r for r in rrows}
    gaps = []
    for row in lrows:
        other = by_key.pop(str(row[0]).strip().upper(), None)
        if other is None:
            gaps.append(["seulement gauche", row[0], row[3], None])
        elif abs(row[3] - other[3]) > 1e-9 or row[1] != other[1]:
            gaps.append(["écart", row[0], row[3], other[3]])
    gaps += [["seulement droite", r[0], None, r[3]] for r in by_key.values()]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Écarts")
    sheet.append(["Catégorie", "Clé", "Montant gauche", "Montant droite"])
    for gap in gaps:
        sheet.append(gap)
    workbook.save(out)
    return len(gaps)


def run_pandas(left: Path, right: Path, out: Path) -> str:
    import pandas as pd

    lf = pd.read_excel(left, engine="openpyxl", header=1)
    rf = pd.read_excel(right, engine="openpyxl", header=1)
    rf.columns = [c.strip() for c in rf.columns]
    lf["cle"] = lf["Référence"].astype(str).str.strip().str.upper()
    rf["cle"] = rf["Réf."].astype(str).str.strip().str.upper()
    rf = rf.rename(columns={"Date opération": "Date"})[["cle", "Date", "Montant"]]
    try:
        import datacompy
    except ImportError:
        merged = lf.merge(rf, on="cle", how="outer", suffixes=("_g", "_d"), indicator=True)
        merged[merged["_merge"] != "both"].to_excel(out, engine="openpyxl")
        return "pandas merge"
    compare = datacompy.PandasCompare(lf[["cle", "Date", "Montant"]], rf.drop_duplicates("cle"), join_columns="cle")
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        compare.all_mismatch().to_excel(writer, sheet_name="Écarts")
        compare.df1_unq_rows.to_excel(writer, sheet_name="Gauche")
        compare.df2_unq_rows.to_excel(writer, sheet_name="Droite")
    return "datacompy"


def median_time(func: Callable[[], object], repeat: int) -> float:
    return statistics.median(timed(func) for _ in range(repeat))


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def interleaved(a: Callable[[], object], b: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Medians of a and b timed in turns, so that a drift of the machine hits both alike."""
    pairs = [(timed(a), timed(b)) for _ in range(repeat)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"generating two workbooks of {args.rows:,} rows…")
        left, right = make_workbooks(folder, args.rows)
        counts = run_robocore(left, right, folder / "a.xlsx")["counts"]
        print("robocore counts:", counts)
        a, b = interleaved(lambda: run_robocore(left, right, folder / "a.xlsx"),
                           lambda: run_baseline(left, right, folder / "b.xlsx"), args.repeat)
        a2, b2 = interleaved(lambda: run_robocore(left, right, folder / "a.xlsx", separate_reads=True),
                             lambda: run_baseline(left, right, folder / "b.xlsx"), args.repeat)
        print(f"(a) reconcile.tables + report      {a:8.2f} s")
        print(f"(b) calamine + dict join + write   {b:8.2f} s   (a)/(b) = {a / b:.2f}  (target ≤ 1.5)")
        print(f"(a2) two read_table steps, then (a) {a2:7.2f} s   (a2)/(b) = {a2 / b2:.2f}  "
              f"(baseline {b2:.2f} s in these turns)")
        if args.skip_pandas:
            return
        try:
            import pandas  # noqa: F401
        except ImportError:
            print("(c) skipped: pandas is not installed (pip install pandas datacompy)")
            return
        how = run_pandas(left, right, folder / "c.xlsx")
        c = median_time(lambda: run_pandas(left, right, folder / "c.xlsx"), args.repeat)
        print(f"(c) pandas read_excel + {how:12s} {c:8.2f} s   (c)/(a) = {c / a:.1f}  (target ≥ 8)")


if __name__ == "__main__":
    main()
