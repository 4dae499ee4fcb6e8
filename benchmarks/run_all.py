#!/usr/bin/env python3
"""Every benchmark of issues 13 and 15 in one run, and every figure against its baseline and target.

    python benchmarks/run_all.py [--quick] [--only sign_verify,bulk,verifier_load,cold_start,hostile,scale_out]

On a shared machine, hold the benchmark lock for the whole run (the scripts take none
themselves): ``flock /work/tmp/bench.lock .venv/bin/python benchmarks/run_all.py``.

In order: the sign/verify comparison and its scaling series (:mod:`bench_sign_verify`, in
this process), then ``bench_bulk.py``, ``bench_verifier_load.py``, ``bench_cold_start.py``,
``bench_hostile.py`` and ``bench_scale_out.py`` (issue 15) as child processes with modest
settings (``--quick``: smaller still, for a look in about four minutes). Each script's own
output is shown as it runs; its figures are read back from that output (so its format is the
contract: a figure that cannot be read is reported as missing, never guessed). The run ends
with one table: figure, measured, baseline (measured in the same run), ratio, target, met.
Baselines are only compared inside their own run: quote ratios, not absolute times from
different runs.

Exit status 1 when a benchmark failed to run; missed targets are reported, not an error.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BULK_TARGET_S, BULK_AWARDS = 10.0, 10_000
VERIFIER_RATE, P99_MS = 800.0, 50.0
COLD_START_S = 0.300
HOSTILE_S, RSS_MB = 1.0, 20.0


@dataclass
class Figure:
    name: str
    measured: float | None
    baseline: float | None
    unit: str
    ratio: float | None
    target: str
    met: bool | None  # None: information only, or not measured


def _f(pattern: str, text: str, group: int = 1) -> float | None:
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(group).replace(",", "")) if match else None


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


# --------------------------------------------------------------------------- reading each script's output

def bulk_figures(out: str, rows: int) -> list[Figure]:
    per_award = _f(r"^issue_csv: [\d,]+ issued in [\d.]+ s \(([\d.]+) ms/award\)", out)
    base = _f(r"^baseline issue_award.*?: ([\d.]+) ms/award", out)
    seconds = per_award * BULK_AWARDS / 1000 if per_award is not None else None
    baseline = base * BULK_AWARDS / 1000 if base is not None else None
    how = "" if rows == BULK_AWARDS else f" (from {rows:,})"
    return [Figure(f"bulk {BULK_AWARDS:,} awards{how} vs one by one", seconds, baseline, "s",
                   _div(baseline, seconds), f"<= {BULK_TARGET_S:g} s", _at_most(seconds, BULK_TARGET_S))]


def verifier_load_figures(out: str) -> list[Figure]:
    phase = r"^{}\s+[\d,]+ req\s+([\d.]+)/s .*?p99\s+([\d.]+)"
    rate, p99 = (_f(phase.format("this tree"), out, g) for g in (1, 2))
    base_rate = _f(phase.format(r"baseline \S+"), out, 1)
    p99_bad = _f(phase.format("healthy, with bad"), out, 2)
    paced_rate, paced_p99 = (_f(phase.format(r"paced \d+/s"), out, g) for g in (1, 2))
    kept_up = None if paced_rate is None else paced_rate >= VERIFIER_RATE * 0.98
    return [
        Figure("verifier web app: verifications/s, warm", rate, base_rate, "/s", _div(rate, base_rate),
               f">= {VERIFIER_RATE:g}/s", None if rate is None else rate >= VERIFIER_RATE),
        Figure(f"verifier web app: p99 at {VERIFIER_RATE:g}/s, warm", paced_p99, None, "ms", None,
               f"< {P99_MS:g} ms", None if paced_p99 is None or kept_up is None else kept_up and paced_p99 < P99_MS),
        Figure("verifier web app: p99 at full load (16 clients)", p99, None, "ms", None, "(info)", None),
        Figure("verifier web app: p99 with bad issuers / without", p99_bad, p99, "ms", _div(p99_bad, p99),
               "(info)", None),
    ]


def cold_start_figures(out: str) -> list[Figure]:
    ours = _f(r"^\s*microcred verify\s+([\d.]+) s", out)
    eager = _f(r"^\s*eager baseline\s+([\d.]+) s", out)
    return [Figure("verify --offline cold process vs eager imports", ours, eager, "s", _div(eager, ours),
                   f"<= {COLD_START_S:g} s", _at_most(ours, COLD_START_S))]


def hostile_figures(out: str) -> list[Figure]:
    figures = []
    worst = _f(r"slowest hostile answer ([\d.]+) s", out)
    normal = _f(r"^\s*normal \(baseline\)\s+\d+ KB\s+([\d.]+) /", out)
    if worst is not None or "(a)" in out:
        worst_ms = worst * 1000 if worst is not None else None
        figures.append(Figure("hostile 160 KB: slowest answer / normal", worst_ms, normal, "ms", _div(worst_ms, normal),
                              f"< {HOSTILE_S * 1000:g} ms", None if worst is None else worst < HOSTILE_S))
    if "(b)" in out:
        before = _f(r"RSS ([\d.]+) MiB after warm-up", out)
        growth = _f(r"MiB after: ([+-]?[\d.]+) MiB", out)
        figures.append(Figure("hostile: worker RSS growth", growth, before, "MiB", None, f"<= {RSS_MB:g} MiB",
                              _at_most(growth, RSS_MB)))
    if "(c)" in out:
        alone = _f(r"^\s*alone\s+\d+ req .*?p99\s+([\d.]+)", out)
        loaded = _f(r"^\s*with \d+ hostile\s+\d+ req .*?p99\s+([\d.]+)", out)
        figures.append(Figure("hostile: normal p99 under load / alone", loaded, alone, "ms", _div(loaded, alone),
                              f"< {P99_MS:g} ms", None if loaded is None else loaded < P99_MS))
    return figures


def scale_out_figures(out: str) -> list[Figure]:
    """Issue 15's figures (information: shown, not judged, except the documented revocation bound)."""
    phase = r"^verifier, {}\s+[\d,]+ req\s+([\d.]+)/s .*?p50\s+([\d.]+) .*?p99\s+([\d.]+)"
    one, two = ([_f(phase.format(name), out, g) for g in (1, 2, 3)] for name in ("1 process", "2 processes"))
    figures = [Figure(f"verifier: 2 server processes / 1, {what}", b, a, unit, _div(b, a), "(info)", None)
               for what, unit, a, b in zip(("verifications/s", "p50", "p99"), ("/s", "ms", "ms"), one, two,
                                           strict=True)]
    if "(c) awards issued" in out:
        rate = r"^workers, {} workers?: [\d,]+ awards in [\d.]+ s\s+([\d.]+) awards/s"
        one_worker, two_workers = (_f(rate.format(n), out, 1) for n in (1, 2))
        figures += [Figure("awards/s, 1 worker (PostgreSQL queue)", one_worker, None, "/s", None, "(info)", None),
                    Figure("awards/s: 2 workers / 1", two_workers, one_worker, "/s", _div(two_workers, one_worker),
                           "(info)", None)]
    if "(b) revocation" in out:
        spread = r"^revoke -> visible .*?min ([\d.]+) s\s+median ([\d.]+) s\s+max ([\d.]+) s"
        low, middle, high = (_f(spread, out, g) for g in (1, 2, 3))
        bound = re.search(r"^documented bound (\d+) s .*?: (within|EXCEEDED)", out, re.MULTILINE)
        figures += [Figure("revoke -> visible through a cache: min", low, None, "s", None, "(info)", None),
                    Figure("revoke -> visible through a cache: median", middle, None, "s", None, "(info)", None),
                    Figure("revoke -> visible through a cache: max", high, None, "s", None,
                           f"<= {bound.group(1)} s + revoke" if bound else "(docs/caching.md)",
                           None if bound is None or high is None else bound.group(2) == "within")]
    return figures


# --------------------------------------------------------------------------- the benchmarks

@dataclass
class Script:
    name: str
    file: str
    full: list[str]
    quick: list[str]
    read: Callable[[str, list[str]], list[Figure]]


def _rows(argv: list[str]) -> int:
    return int(argv[argv.index("--rows") + 1]) if "--rows" in argv else BULK_AWARDS


SCRIPTS = [
    Script("bulk", "bench_bulk.py", ["--rows", "10000", "--baseline", "200", "--sample", "100"],
           ["--rows", "1000", "--baseline", "50", "--sample", "20"], lambda out, argv: bulk_figures(out, _rows(argv))),
    Script("verifier_load", "bench_verifier_load.py", ["--requests", "600", "--rounds", "2"],
           ["--requests", "200", "--rounds", "1", "--paced-requests", "400"],
           lambda out, argv: verifier_load_figures(out)),
    Script("cold_start", "bench_cold_start.py", ["--rounds", "5"], ["--rounds", "2"],
           lambda out, argv: cold_start_figures(out)),
    Script("hostile", "bench_hostile.py",
           ["--rounds", "3", "--requests", "200", "--normal-requests", "100", "--latency-rounds", "2"],
           ["--rounds", "2", "--only", "a", "--only", "c", "--normal-requests", "50", "--latency-rounds", "1"],
           lambda out, argv: hostile_figures(out)),
    Script("scale_out", "bench_scale_out.py", ["--requests", "1000", "--rounds", "3", "--trials", "5"],
           ["--requests", "200", "--rounds", "1", "--trials", "2", "--span", "20", "--awards", "2000", "--jobs", "2"],
           lambda out, argv: scale_out_figures(out)),
]
NAMES = ["sign_verify", *(s.name for s in SCRIPTS)]


def cold_start_file(folder: Path) -> list[str]:
    """The W3C vector bench_cold_start defaults to, or (without ../shared) a credential signed here."""
    if (ROOT.parent / "shared" / "spec" / "vectors" / "eddsa-rdfc-2022" / "signedDataInt.json").is_file():
        return []
    from benchmarks.bench_sign_verify import CREATED, Keys
    from benchmarks.credentials import ob_vector_credential
    from issuer import sign_credential
    keys = Keys()
    path = folder / "ob-vector-signed.json"
    path.write_text(json.dumps(sign_credential(ob_vector_credential(keys.did), keys.key,
                                               verification_method=keys.vm, created=CREATED)))
    return [str(path)]


def run_script(script: Script, argv: list[str]) -> tuple[int, str]:
    """Run one benchmark script, echoing its output; (exit status, output)."""
    command = [sys.executable, str(ROOT / "benchmarks" / script.file), *argv]
    print(f"\n== {script.name}: {' '.join([Path(command[1]).relative_to(ROOT).as_posix(), *argv])} "
          f"(load average {os.getloadavg()[0]:.2f})", flush=True)
    lines = []
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          encoding="utf-8", errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    return proc.returncode, "".join(lines)


# The scaling series' rounds: "the lead does not shrink" is a ratio of two leads, each a ratio of
# two medians; with 15 rounds it swung between 0.7x and 1.2x from one run to the next.
SCALE_ROUNDS = 40


def sign_verify(quick: bool) -> list[Figure]:
    from benchmarks.bench_sign_verify import figures, run
    print("\n== sign_verify: benchmarks/bench_sign_verify.py"
          + (" --rounds 30 --scale-rounds 3" if quick else f" --rounds 200 --scale-rounds {SCALE_ROUNDS}")
          + f" (load average {os.getloadavg()[0]:.2f})", flush=True)
    result = run(rounds=30, scale_rounds=3) if quick else run(rounds=200, scale_rounds=SCALE_ROUNDS)
    return [Figure(r["figure"], r["measured"], r["baseline"], r["unit"], r["ratio"], r["target"], r["met"])
            for r in figures(result)]


# --------------------------------------------------------------------------- the summary

def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    digits = 3 if unit in ("ms", "s") and value < 10 else 1 if value < 1000 else 0
    return f"{value:.{digits}f} {unit}"


def summary(figures: list[Figure], failed: list[str]) -> None:
    print("\n== summary (ratio: the lead B / A for 'A vs B' rows; A / B for 'A / B' rows; "
          "baselines measured in this run)")
    print(f"{'figure':52} {'measured':>12} {'baseline':>12} {'ratio':>8}  {'target':18} met")
    for f in figures:
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        ratio = f"{f.ratio:.1f}x" if f.ratio is not None else "-"
        print(f"{f.name:52} {_value(f.measured, f.unit):>12} {_value(f.baseline, f.unit):>12} {ratio:>8}  "
              f"{f.target:18} {met}")
    judged = [f for f in figures if f.met is not None]
    missing = [f.name for f in figures if f.measured is None and f.ratio is None]
    print(f"\n{sum(f.met is True for f in judged)} of {len(judged)} targets met"
          + (f"; not measured: {', '.join(missing)}" if missing else "")
          + (f"; FAILED to run: {', '.join(failed)}" if failed else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and rows: a look, not figures to quote")
    parser.add_argument("--only", default=",".join(NAMES), help=f"comma-separated, of {', '.join(NAMES)}")
    args = parser.parse_args()
    chosen = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(chosen) - set(NAMES))
    if unknown:
        parser.error(f"--only: unknown {', '.join(unknown)}; choose among {', '.join(NAMES)}")
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,  # noqa: S607
                            text=True, check=False).stdout.strip() or "?"
    print(f"microcred {commit}; Python {platform.python_version()}; {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.2f}; {'quick' if args.quick else 'full'} run")
    figures: list[Figure] = []
    failed: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="microcred-run-all-") as tmp:
        if "sign_verify" in chosen:
            try:
                figures += sign_verify(args.quick)
            except Exception as exc:  # report it and go on with the others
                print(f"sign_verify failed: {exc!r}")
                failed.append("sign_verify")
        for script in SCRIPTS:
            if script.name not in chosen:
                continue
            argv = list(script.quick if args.quick else script.full)
            if script.name == "cold_start":
                argv += cold_start_file(Path(tmp))
            status, out = run_script(script, argv)
            if status != 0:
                failed.append(script.name)
            figures += script.read(out, argv)
    print(f"\nall benchmarks: {time.perf_counter() - started:.0f} s")
    summary(figures, failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
