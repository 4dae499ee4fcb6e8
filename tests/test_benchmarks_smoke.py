"""The benchmarks still run: one round of the sign/verify comparison, and run_all's readers.

No timing is asserted (speed is measured in ``benchmarks/``, not here): this only keeps the
benchmark code working as the code it measures changes, so that a full run does not fail
after minutes. The jsonld.js side is left out (node start-up is not cheap).
"""
from __future__ import annotations

from benchmarks import bench_sign_verify, run_all


def test_sign_verify_runs_one_round_with_identical_outputs():
    lines: list[str] = []
    result = bench_sign_verify.run(rounds=1, scale_rounds=1, sizes=(1,), use_js=False, out=lines.append)
    assert result.quads["ob"] == 16  # the 1EdTech test-vector credential's 16 quads
    assert result.quads["align-1"] > result.quads["ob"]
    for case in ("ob", "align-1"):
        for side in ("floor", "microcred", "naive pyld"):
            for op in ("sign", "verify"):
                assert result.get(case, side, op) > 0
    assert any("jsonld.js: skipped (--no-js)" in line for line in lines)
    names = [row["figure"] for row in bench_sign_verify.figures(result)]
    assert "ob sign vs naive pyld" in names and "ob verify / floor" in names
    assert f"align-1 ({result.quads['align-1']} q) sign vs naive pyld" in names


def test_run_all_reads_each_scripts_figures():
    bulk = run_all.bulk_figures(
        "baseline issue_award, one by one (50 awards): 5.47 ms/award -> 5.5 s for 1,000 (extrapolated)\n"
        "issue_csv: 1,000 issued in 1.1 s (1.09 ms/award)\n", rows=1000)
    assert (bulk[0].measured, bulk[0].baseline, bulk[0].met) == (10.9, 54.7, False)
    load = run_all.verifier_load_figures(  # lines as bench_verifier_load.py prints them
        "baseline 9ea3fc8                 1200 req    385/s (419, 351)  p50  39.7  p95  68.3  p99   84.2  max  103.5 ms"
        "  server CPU 4.71 ms/req, client 0.12\n"
        "this tree                        1200 req    878/s (984, 772)  p50  16.7  p95  35.6  p99   44.8  max   60.1 ms"
        "  server CPU 2.07 ms/req, client 0.10\n"
        "paced 800/s                      1200 req    797/s (798, 796)  p50   4.1  p95  12.6  p99   21.5  max   40.2 ms"
        "  server CPU 2.01 ms/req, client 0.12\n"
        "healthy, with bad                1200 req    725/s (832, 619)  p50  19.7  p95  44.7  p99   63.0  max  102.1 ms"
        "  server CPU 2.46 ms/req, client 0.20\n")
    assert [(f.measured, f.met) for f in load] == [(878.0, True), (21.5, True), (44.8, None), (63.0, None)]
    behind = run_all.verifier_load_figures(  # p99 at the target rate counts only if the server kept up
        "paced 800/s                      1200 req    700/s (690, 710)  p50   4.1  p95  12.6  p99   21.5  max   40.2 ms"
        "  server CPU 2.01 ms/req, client 0.12\n")
    assert behind[1].met is False
    assert load[0].baseline == 385.0
    cold = run_all.cold_start_figures("  microcred verify        0.296 s /  0.292 s\n"
                                      "  eager baseline          1.113 s /  1.062 s\n")
    assert (cold[0].measured, cold[0].baseline, cold[0].met) == (0.296, 1.113, True)
    hostile = run_all.hostile_figures(
        "(a) verify_credential in process, median / max over 2 rounds\n"
        "  normal (baseline)      1 KB      9.4 /    17.9 ms  verified\n"
        "  slowest hostile answer 0.26 s: under the 1 s target\n"
        "(b) one worker (pid 1), 100 hostile requests in 19.6 s (100 HTTP 200 verified)\n"
        "  RSS 78 MiB after warm-up -> 81 MiB after: +3.1 MiB (flat: target within 20 MB)\n"
        "(c) normal verifications, one client, 2 workers x 32 threads, 1 rounds\n"
        "  alone                   50 req  p50    1.9  p90    3.5  p99   28.5  max   28.5 ms\n"
        "  with 16 hostile         50 req  p50    5.3  p90   18.5  p99   24.0  max   24.0 ms\n")
    assert [(f.measured, f.met) for f in hostile] == [(260.0, True), (3.1, True), (24.0, True)]
    missing = run_all.cold_start_figures("something else entirely\n")
    assert missing[0].measured is None and missing[0].met is None


def test_run_all_reads_the_scale_out_figures():
    out = (  # lines as bench_scale_out.py prints them
        "verifier, 1 process               200 req    749/s (749)  p50  15.9  p95  42.8  p99   59.6  max   64.0 ms"
        "  server CPU 1.25 ms/req, client 0.11\n"
        "verifier, 2 processes             200 req    685/s (685)  p50  20.5  p95  42.3  p99   51.3  max   72.0 ms"
        "  server CPU 1.45 ms/req, client 0.10\n"
        "(b) revocation -> visible: 2 x microcred revoke at random moments over 20 s (seed 2036); ...\n"
        "revoke -> visible (2 of 2 trials, from the start of microcred revoke): min 42.5 s  median 50.7 s  max 58.9 s\n"
        "documented bound 60 s (the status lists' max-age, docs/caching.md): within (latest 57.4 s after a revoke "
        "returned; the poll interval, 0.5 s, is the resolution)\n")
    figures = run_all.scale_out_figures(out)
    assert [(f.measured, f.baseline) for f in figures[:3]] == [(685.0, 749.0), (20.5, 15.9), (51.3, 59.6)]
    assert round(figures[0].ratio, 3) == round(685 / 749, 3) and figures[0].met is None
    assert [(f.measured, f.met) for f in figures[3:]] == [(42.5, None), (50.7, None), (58.9, True)]
    exceeded = run_all.scale_out_figures(out.replace(": within (", ": EXCEEDED ("))
    assert exceeded[-1].met is False
    skipped = run_all.scale_out_figures("(b) revocation through a cache: skipped: varnishd not found\n")
    assert [f.measured for f in skipped] == [None] * 6 and skipped[-1].met is None
    only_a = run_all.scale_out_figures(out.split("(b)")[0])
    assert len(only_a) == 3


def test_run_all_reads_the_worker_figures():
    out = (  # lines as bench_workers.py prints them
        "(c) awards issued per second by microcred worker processes on PostgreSQL: 2,000 awards, ...\n"
        "workers, 1 worker: 2,000 awards in 3.7 s  540 awards/s  (2 bulk jobs of 1,000; every row issued once)\n"
        "workers, 2 workers: 2,000 awards in 6.8 s  296 awards/s  (2 bulk jobs of 1,000; every row issued once)\n")
    figures = run_all.scale_out_figures(out)
    workers = [f for f in figures if "worker" in f.name]
    assert [(f.measured, f.baseline) for f in workers] == [(540.0, None), (296.0, 540.0)]
    assert round(workers[1].ratio, 3) == round(296 / 540, 3)
    assert [f.measured for f in run_all.scale_out_figures(out.replace("540 awards/s", "n/a"))
            if "worker" in f.name][0] is None
