#!/usr/bin/env python3
"""The HR console's heaviest pages, with the demo's 10 awards (baseline) and with many.

    python benchmarks/bench_console.py [--awards 5000] [--rounds 15]

Creates a throwaway instance with the demo data and a signed-in admin, times each page
(median of ``--rounds`` requests through the Flask test client, after one warm-up), then
bulk-issues ``--awards`` more awards of the demo achievements to as many people and times
the same pages again in the same run. Every response must be 200 and, for the dashboard,
show the grown counts (so a fast wrong answer cannot pass for a fast page).
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.admin_support import Console, add_staff, console_app  # noqa: E402

PAGES = {
    "skills dashboard": "/admin/skills",
    "role coverage (3 skills)": "/admin/skills?skill=lead+a+team&skill=manage+feedback&skill=Negotiation",
    "coverage CSV": "/admin/skills/coverage.csv?skill=lead+a+team&skill=manage+feedback&skill=Negotiation",
    "awards list, page 1": "/admin/awards",
    "awards expiring in 90 days": "/admin/awards?expiring_within_days=90",
    "achievements list": "/admin/achievements",
}
SLUGS = ("team-leadership", "coaching-feedback", "conflict-resolution", "data-driven-decisions",
         "collaborative-problem-solving")


def time_pages(console: Console, rounds: int) -> dict[str, float]:
    result = {}
    for name, path in PAGES.items():
        assert console.get(path).status_code == 200, (name, path)          # warm-up
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            response = console.get(path)
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200, (name, response.status_code)
        result[name] = statistics.median(samples) * 1000
    return result


def people_with(console: Console, skill: str) -> int:
    text = console.get("/admin/skills/skills.csv").get_data(as_text=True).lstrip("\ufeff")
    row = next(line for line in text.splitlines() if line.startswith(skill + ","))
    return int(re.split(r",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", row)[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--awards", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        app = console_app(tmp, f"sqlite:///{tmp / 'bench.db'}", demo=True)
        add_staff(app, "bench", "admin")
        console = Console(app).login("bench")
        before = time_pages(console, args.rounds)
        leaders_before = people_with(console, "lead a team")

        lines = ["email,name,achievement,awarded_date,external_id"]
        lines += [f"person{n}@example.com,Person {n},{SLUGS[n % len(SLUGS)]},2026-01-{1 + n % 28:02d},bench-{n}"
                  for n in range(args.awards)]
        state = app.extensions["microcred"]
        started = time.perf_counter()
        result = state.use.bulk.run(("\n".join(lines) + "\n").encode(), actor="bench")
        assert result.ok and result.issued == args.awards, result.report.lines()[:3]
        print(f"issued {args.awards} awards in {time.perf_counter() - started:.1f} s")
        leaders_after = people_with(console, "lead a team")
        expected = leaders_before + sum(1 for n in range(args.awards) if SLUGS[n % len(SLUGS)] == "team-leadership")
        assert leaders_after == expected, (leaders_after, expected)
        after = time_pages(console, args.rounds)
        state.engine.dispose()

    width = max(len(name) for name in PAGES)
    print(f"\n{'page':<{width}}  {'10 awards':>10}  {f'{args.awards + 10} awards':>12}")
    for name in PAGES:
        print(f"{name:<{width}}  {before[name]:>8.1f} ms  {after[name]:>9.1f} ms")


if __name__ == "__main__":
    main()
