#!/usr/bin/env python3
"""Writes N needs twice, as the CSV `NEED IMPORT` reads and as COPY text rows for psql's \\copy
into the same table, so the two imports load identical data. Real county and occupation codes
come from the project's reference migration.

Usage: bench/gen_needs.py N OUT.csv OUT.tsv [--seed S]
"""
import random
import re
import sys
from pathlib import Path

sql = (Path(__file__).resolve().parent.parent / "sql" / "003_reference_data.sql").read_text(encoding="utf-8")
counties = re.findall(r"^    \('(\d{6})', '[^']*', '(\d\d)'", sql, re.M)
counties = [code for code, _ in counties]
occupations = [c for c in re.findall(r"^    \('(\d-\d\d-\d\d(?:-\d\d)?)', ", sql, re.M)]
kinds = ["labor", "training", "school_partnership", "talent"]


def main():
    n, csv_path, tsv_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    rng = random.Random(seed)
    with open(csv_path, "w", encoding="utf-8") as csv, open(tsv_path, "w", encoding="utf-8") as tsv:
        csv.write("county,kind,occupations,qty,from,to,priority,poverty,school,partnership,note\n")
        for i in range(n):
            county = rng.choice(counties)
            kind = rng.choice(kinds)
            codes = sorted(set(rng.sample(occupations, rng.randint(1, 3))))
            qty = rng.randint(1, 200)
            month = rng.randint(1, 6)
            start, end = f"2027-{month:02d}-01", f"2027-{month + rng.randint(1, 6):02d}-28"
            priority = rng.randint(1, 5)
            poverty = rng.random() < 0.4
            note = f"需求 {i}"
            # A school partnership names the western school it helps and its partner's kind (NEED
            # IMPORT requires both).
            school = f"第{i % 50 + 1}中学" if kind == "school_partnership" else ""
            partnership = "school" if kind == "school_partnership" else ""
            copy_partnership = partnership or "\\N"  # COPY's null: the column takes no ''
            csv.write(f"{county},{kind},{';'.join(codes)},{qty},{start},{end},{priority},{'yes' if poverty else 'no'},{school},{partnership},{note}\n")
            tsv.write(f"{county}\t{kind}\t{{{','.join(codes)}}}\t{qty}\t{start}\t{end}\t{priority}\t{'t' if poverty else 'f'}\t{school}\t{copy_partnership}\t{note}\n")


if __name__ == "__main__":
    main()
