#!/usr/bin/env python3
"""Bulk issuance from CSV, end to end: validate, build, sign, self-verify, store, status indexes.

    python benchmarks/bench_bulk.py [--rows 10000] [--baseline 200] [--chunk-size 500] [--workers N]

Creates a throwaway instance (SQLite file, one issuer with an Ed25519 key, three
achievements), writes a CSV of ``--rows`` awards (evidence, results and awarded dates
mixed in), then in one run:

1. baseline: the first ``--baseline`` rows through plain ``issue_award``, one transaction
   per award (what an API call does), on a separate fresh instance; extrapolated;
2. ``issue_csv`` on the whole file (total seconds, ms per award);
3. ``issue_csv`` again on the same file: must issue nothing new;
4. a sample of the stored credentials checked with ``verify_credential`` offline, and the
   status allocations checked: two per award, no index shared.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from issuer.awards.allocation import StatusIndexes  # noqa: E402
from issuer.awards.issuance import IssuerContext, issue_award  # noqa: E402
from issuer.awards.status_lists import ensure_lists  # noqa: E402
from issuer.bulk.reading import validate_csv  # noqa: E402
from issuer.bulk.run import issue_csv  # noqa: E402
from issuer.config import load_settings  # noqa: E402
from issuer.db.engine import make_engine, session_factory  # noqa: E402
from issuer.db.migrate import migrate  # noqa: E402
from issuer.db.models import Achievement, Award, Issuer, StatusAllocation  # noqa: E402
from issuer.keys.keyring import add_key  # noqa: E402
from issuer.runtime import Runtime  # noqa: E402
from verifier import verify_credential  # noqa: E402

BASE_URL = "https://hr.example.com"


def make_instance(folder: Path):
    """(runtime, engine) of a new instance: one issuer, its key and lists, 3 achievements."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = load_settings(env={}, instance=folder, keys_dir=folder / "keys", base_url=BASE_URL,
                             database_url=f"sqlite:///{folder / 'microcred.db'}")
    engine = make_engine(settings.database_url)
    migrate(engine)
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        issuer = Issuer(did=settings.did, base_url=settings.base_url, name="Example Corp HR",
                        url=BASE_URL, email="hr@example.com")
        session.add(issuer)
        session.flush()
        add_key(session, settings, issuer)
        ensure_lists(session, settings, issuer)
        session.add_all([
            Achievement(issuer_id=issuer.id, slug="teamwork", name="Teamwork", description="Works well in a team.",
                        criteria_narrative="Assessed by the team lead in a structured review.",
                        alignments=[{"targetName": "Teamwork", "targetUrl": "https://example.com/skills/teamwork",
                                     "targetType": "ceasn:Competency", "targetFramework": "Example Skills"}],
                        result_descriptions=[{"id": "urn:uuid:6f4c1d52-3b7e-4a8e-9d51-1c0f0b9e2a10",
                                              "name": "Grade", "resultType": "LetterGrade",
                                              "allowedValue": ["A", "B", "C"]}],
                        validity_months=24),
            Achievement(issuer_id=issuer.id, slug="python-basics", name="Python Basics",
                        description="Writes and tests small Python programs.",
                        criteria_url="https://example.com/criteria/python-basics", tags=["python", "programming"]),
            Achievement(issuer_id=issuer.id, slug="first-aid", name="First Aid", description="Certified first aider.",
                        criteria_narrative="Passed the practical first aid exam.", validity_months=36),
        ])
    return Runtime(settings, sessions), engine


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "employee_id", "achievement", "evidence_url", "evidence_narrative",
                         "result_description", "result_value", "awarded_date"])
        for n in range(rows):
            achievement = ("teamwork", "python-basics", "first-aid")[n % 3]
            evidence_url = f"https://intranet.example.com/reviews/{n}" if n % 2 == 0 else ""
            narrative = "Led the migration project and mentored two colleagues." if n % 5 == 0 else ""
            result = ("urn:uuid:6f4c1d52-3b7e-4a8e-9d51-1c0f0b9e2a10", rng.choice("ABC")) \
                if achievement == "teamwork" else ("", "")
            day = f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}" if n % 4 else ""
            writer.writerow([f"employee{n}@example.com", f"Employee {n}", f"E{n:06d}", achievement, evidence_url,
                             narrative, *result, day])


def baseline(folder: Path, csv_path: Path, count: int) -> float:
    """Seconds per award through plain issue_award, one transaction per award."""
    runtime, engine = make_instance(folder)
    with runtime.sessions() as session:
        issuer = session.scalars(select(Issuer)).one()
        report = validate_csv(csv_path, session, issuer)
        ctx = IssuerContext.load(session, runtime.settings, issuer, StatusIndexes())
        session.commit()
        requests = [row.request for row in report.rows[:count]]
        started = time.perf_counter()
        for request in requests:
            with session.begin():
                issue_award(session, ctx, request, actor="bench")
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed / len(requests)


def check(runtime: Runtime, sample: int) -> None:
    with runtime.sessions() as session:
        issuer = session.scalars(select(Issuer)).one()
        ctx = IssuerContext.load(session, runtime.settings, issuer)
        awards = session.scalars(select(Award)).all()
        for award in random.Random(1).sample(awards, min(sample, len(awards))):
            report = verify_credential(json.loads(award.credential), offline=True, documents=ctx.documents)
            assert report.verified, report.to_dict()
        allocations = session.execute(select(StatusAllocation.award_id, func.count()).group_by(
            StatusAllocation.award_id)).all()
        assert len(allocations) == len(awards) and all(n == 2 for _, n in allocations)
        total = session.scalar(select(func.count()).select_from(StatusAllocation))
        distinct = session.execute(select(StatusAllocation.list_id, StatusAllocation.index).distinct()).all()
        assert total == len(distinct) == 2 * len(awards)
    print(f"checked: {min(sample, len(awards))} stored credentials verify offline; {len(awards)} awards, "
          f"2 status allocations each, no index shared")


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the signing workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=200, help="rows through plain issue_award (0: skip)")
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=None, help="signing processes (default: issue_csv's)")
    parser.add_argument("--sample", type=int, default=200, help="stored credentials re-verified at the end")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="microcred-bench-bulk-") as tmp:
        root = Path(tmp)
        csv_path = root / "awards.csv"
        write_csv(csv_path, args.rows)
        print(f"{args.rows:,} rows, {csv_path.stat().st_size / 1e6:.1f} MB CSV; {os.cpu_count()} CPUs; SQLite")

        if args.baseline:
            per_award = baseline(root / "baseline", csv_path, min(args.baseline, args.rows))
            print(f"baseline issue_award, one by one ({args.baseline} awards): {per_award * 1000:.2f} ms/award "
                  f"-> {per_award * args.rows:.1f} s for {args.rows:,} (extrapolated)")

        runtime, engine = make_instance(root / "bulk")
        indexes = StatusIndexes()
        load_before = os.getloadavg()[0]
        main_cpu, workers_cpu = time.process_time(), _children_cpu()
        result = issue_csv(csv_path, runtime, actor="bench", chunk_size=args.chunk_size, workers=args.workers,
                           indexes=indexes)
        main_cpu, workers_cpu = time.process_time() - main_cpu, _children_cpu() - workers_cpu
        assert result.ok and result.issued == args.rows, (result.issued, result.report.lines()[:5])
        print(f"issue_csv: {result.issued:,} issued in {result.seconds:.1f} s "
              f"({result.seconds / max(result.issued, 1) * 1000:.2f} ms/award)")
        print(f"  CPU: main process {main_cpu:.1f} s, signing workers {workers_cpu:.1f} s "
              f"({(main_cpu + workers_cpu) / max(result.issued, 1) * 1000:.2f} ms/award in all); "
              f"load average before/after: {load_before:.2f}/{os.getloadavg()[0]:.2f} (other processes slow it down)")

        again = issue_csv(csv_path, runtime, actor="bench", chunk_size=args.chunk_size, workers=args.workers,
                          indexes=indexes)
        assert again.ok and again.issued == 0 and again.already_issued == args.rows
        print(f"issue_csv again: {again.issued} new, {again.already_issued:,} already issued "
              f"in {again.seconds:.1f} s")
        check(runtime, args.sample)
        engine.dispose()


if __name__ == "__main__":
    main()
