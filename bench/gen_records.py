#!/usr/bin/env python3
"""Writes NEEDS needs and OFFERS offers for bench/match_run.sh as the CSV files NEED IMPORT and
OFFER IMPORT read, plus the organisations (TSV for \\copy) the offers belong to. Shaped like the
engine's `medium` instance: kinds 40/30/10/20 %, 1-3 mid-group occupation codes of the kind's major groups,
windows of weeks across 2027, quantities and capacities in the generator's buckets.

Usage: bench/gen_records.py NEEDS OFFERS DIR [--seed S]
"""
import random
from datetime import date, timedelta
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
sql = (root / "sql" / "003_reference_data.sql").read_text(encoding="utf-8")
counties = re.findall(r"^    \('(\d{6})', '[^']*', '\d\d'", sql, re.M)
# Mid groups (2-05, 6-01, …): pairs then need the same mid group, as in a national call for workers.
codes = re.findall(r"^    \('(\d-\d\d)', ", sql, re.M)
east = ["11", "12", "31", "32", "33", "35", "37", "44"]
cities = {"11": "北京市", "12": "天津市", "31": "上海市", "32": "无锡市", "33": "杭州市", "35": "福州市", "37": "聊城市", "44": "广州市"}
kinds = ["labor", "training", "school_partnership", "talent"]
groups = {"labor": "3456", "training": "2456", "school_partnership": "246", "talent": "123"}


def window(rng, shortest):
    start = rng.randint(0, 300)
    end = min(start + rng.randint(shortest, 250), 364)
    day = lambda n: (date(2027, 1, 1) + timedelta(days=n)).isoformat()
    return day(start), day(end)


def main():
    n_needs, n_offers, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    rng = random.Random(seed)
    by_kind = {k: [c for c in codes if c[0] in groups[k]] for k in kinds}
    organisations = max(1, n_offers // 10)
    with open(out / "organisations.tsv", "w", encoding="utf-8") as f:
        for i in range(organisations):
            province = east[i % len(east)]
            f.write(f"enterprise\t企业 {i}\t{province}\t{cities[province]}\n")
    with open(out / "needs.csv", "w", encoding="utf-8") as f:
        # school and partnership: a school partnership names the western school and its partner
        # (the organisations here are enterprises: 企校合作); no random draw, so the rows stay as they were.
        f.write("county,kind,occupations,qty,from,to,priority,poverty,school,partnership\n")
        for _ in range(n_needs):
            kind = rng.choices(kinds, [40, 30, 10, 20])[0]
            tags = sorted(set(rng.choices(by_kind[kind], k=rng.choices([1, 2, 3], [70, 25, 5])[0])))
            start, end = window(rng, 28)
            county = rng.choice(counties)
            school = f"{county} 职业技术学校,enterprise" if kind == "school_partnership" else ","
            f.write(f"{county},{kind},{';'.join(tags)},{rng.randint(1, 120)},{start},{end},"
                    f"{rng.choices([1, 2, 3, 4, 5], [15, 25, 30, 20, 10])[0]},{'yes' if rng.random() < 0.4 else 'no'},{school}\n")
    with open(out / "offers.csv", "w", encoding="utf-8") as f:
        f.write("org,kind,occupations,capacity,from,to\n")
        for _ in range(n_offers):
            kind = rng.choices(kinds, [45, 30, 10, 15])[0]
            tags = sorted(set(rng.choices(by_kind[kind], k=rng.choices([1, 2, 3], [70, 25, 5])[0])))
            start, end = window(rng, 56)
            f.write(f"{rng.randint(1, organisations)},{kind},{';'.join(tags)},{rng.randint(1, 60)},{start},{end}\n")


if __name__ == "__main__":
    main()
