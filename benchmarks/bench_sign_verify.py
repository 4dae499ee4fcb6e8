#!/usr/bin/env python3
"""eddsa-rdfc-2022 sign and verify: microcred against its baselines, in one interleaved run.

    python benchmarks/bench_sign_verify.py [--rounds 200] [--scale-rounds 15] [--sizes 1,5,20,80] [--no-js]

Two credentials families (:mod:`benchmarks.credentials`): ``ob``, the 1EdTech OB 3.0
test-vector credential (16 quads, did:key issuer), and the issue-13 scaling series: that
credential with 1, 5, 20 and 80 alignments, 10 evidence items, 5 results and a signed
endorsement (20 alignments is the "large" ~300-quad point). Every side signs the same
document with the same key and ``created`` and verifies the same signed credential:

* ``floor``: the cryptography alone, the canonical N-Quads given: two SHA-256, Ed25519,
  base58, with ``cryptography`` (OpenSSL) Ed25519 as issue 13 defines the floor (microcred signs
  with it); ``floor sodium``: the same verification with libsodium's Ed25519, which microcred's
  verification uses (``verifier.keys``), shown for information;
* ``microcred``: ``issuer.sign_credential`` and a full offline ``verifier.verify_credential``
  (contexts, data model, key, issuer binding, proof, validity, endorsements); ``proof only``
  (``verify_proofs``) is shown beside it;
* ``fast=False``: microcred forced onto its generic pyld path (the ``fast`` keyword of
  ``verifier.canonicalize.canonicalize``), shown only once that keyword exists;
* ``naive pyld``: ``pyld.jsonld.normalize`` (URDNA2015) of the document and of the proof
  configuration on every call, with a plain loader returning the same context dicts (no
  per-call copies): what a straightforward implementation does;
* ``jsonld.js``: Digital Bazaar's stack on node (``benchmarks/js/sign_verify.mjs``, the
  packages of ``tests/interop``; skipped with a message when node or they are missing).

Python sides run round-robin (their order rotating every round; one sample is the mean of
consecutive calls lasting about 10 ms, as the node side times consecutive calls), node in
batches alternating with batches of Python rounds; medians are compared inside this one run
only. Before any
timing every side must produce the same proof value (and the Python ones the same canonical
N-Quads) on every credential, and verify the others' signed credential.
"""
from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nacl.bindings import crypto_sign_open
from pyld import jsonld

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.credentials import endorsement_credential, ob_vector_credential, scaled_credential  # noqa: E402
from benchmarks.js import NodeScript  # noqa: E402
from benchmarks.js import unavailable as node_unavailable  # noqa: E402
from issuer import sign_credential  # noqa: E402
from issuer.keys.files import generate_key  # noqa: E402
from verifier import verify_credential  # noqa: E402
from verifier.canonicalize import canonicalize  # noqa: E402
from verifier.contexts import context_index, load_bundled_context  # noqa: E402
from verifier.keys import public_key_from_did_key  # noqa: E402
from verifier.multiformats import multibase_decode, multibase_encode  # noqa: E402
from verifier.proofs import verify_proofs  # noqa: E402
from verifier.proofs.eddsa_rdfc_2022 import proof_configuration  # noqa: E402

CREATED = "2026-01-01T00:00:00Z"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SIZES = (1, 5, 20, 80)
SIDES = ("floor", "floor sodium", "microcred", "fast=False", "naive pyld", "jsonld.js")
CONTEXTS = {url: load_bundled_context(url) for url in context_index()}

# --------------------------------------------------------------------------- the naive baseline


def naive_loader(url, options=None):
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
            "document": CONTEXTS[url]}


def naive_canon(document: dict) -> str:
    return jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                       "documentLoader": naive_loader})


def naive_hash(document: dict, proof: dict) -> bytes:
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = document["@context"]
    return (hashlib.sha256(naive_canon(config).encode()).digest()
            + hashlib.sha256(naive_canon(document).encode()).digest())


def naive_sign(document: dict, key, vm: str) -> dict:
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": CREATED,
             "verificationMethod": vm, "proofPurpose": "assertionMethod"}
    proof["proofValue"] = multibase_encode(key.sign(naive_hash(document, proof)))
    return {**document, "proof": proof}


def naive_verify(signed: dict, public_key) -> bool:
    document = {k: v for k, v in signed.items() if k != "proof"}
    return public_key.verify(multibase_decode(signed["proof"]["proofValue"]), naive_hash(document, signed["proof"]))


# --------------------------------------------------------------------------- microcred's pyld path

def has_fast_switch() -> bool:
    return "fast" in (canonicalize.__kwdefaults__ or {})


@contextmanager
def pyld_path() -> Iterator[None]:
    """Every ``canonicalize`` call without an explicit ``fast`` takes the generic pyld path."""
    defaults = canonicalize.__kwdefaults__
    assert defaults is not None and "fast" in defaults
    saved, defaults["fast"] = defaults["fast"], False
    try:
        yield
    finally:
        defaults["fast"] = saved


def without_fast(call: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with pyld_path():
            return call()
    return run


# --------------------------------------------------------------------------- cases and sides

@dataclass
class Keys:
    key: Any = field(default_factory=lambda: generate_key("ed25519"))

    @property
    def did(self) -> str:
        return self.key.public.to_did_key()

    @property
    def vm(self) -> str:
        return f"{self.did}#{self.did.split(':')[-1]}"


@dataclass
class Case:
    name: str
    document: dict
    signed: dict
    quads: int
    proof_nquads: str
    doc_nquads: str


def make_case(name: str, document: dict, keys: Keys) -> Case:
    signed = sign_credential(document, keys.key, verification_method=keys.vm, created=CREATED)
    doc_nquads = canonicalize(document)
    return Case(name, document, signed, doc_nquads.count("\n"), proof_configuration(signed["proof"], document),
                doc_nquads)


def make_cases(sizes: tuple[int, ...]) -> tuple[Keys, dict[str, Case]]:
    keys, endorser = Keys(), Keys()
    endorsement = sign_credential(endorsement_credential(endorser.did), endorser.key,
                                  verification_method=endorser.vm, created=CREATED)
    cases = {"ob": make_case("ob", ob_vector_credential(keys.did), keys)}
    for n in sizes:
        cases[f"align-{n}"] = make_case(f"align-{n}", scaled_credential(n, endorsement, keys.did), keys)
    return keys, cases


def python_sides(case: Case, keys: Keys) -> dict[str, dict[str, Callable[[], Any]]]:
    """side -> op -> a call doing that op once on ``case``."""
    private, public = keys.key.private_key, keys.key.public
    vm = keys.vm  # worked out once: deriving the did:key is no part of signing
    raw_public = public.raw
    proof_value = case.signed["proof"]["proofValue"]

    def floor_sign() -> str:
        data = (hashlib.sha256(case.proof_nquads.encode()).digest()
                + hashlib.sha256(case.doc_nquads.encode()).digest())
        return multibase_encode(private.sign(data))

    def floor_verify() -> None:
        data = (hashlib.sha256(case.proof_nquads.encode()).digest()
                + hashlib.sha256(case.doc_nquads.encode()).digest())
        public.key.verify(multibase_decode(proof_value), data)

    def floor_sodium_verify() -> None:
        data = (hashlib.sha256(case.proof_nquads.encode()).digest()
                + hashlib.sha256(case.doc_nquads.encode()).digest())
        crypto_sign_open(multibase_decode(proof_value) + data, raw_public)

    def ours_sign() -> dict:
        return sign_credential(case.document, keys.key, verification_method=vm, created=CREATED)

    def ours_verify() -> Any:
        return verify_credential(case.signed, offline=True, now=NOW)

    sides = {
        "floor": {"sign": floor_sign, "verify": floor_verify},
        "floor sodium": {"verify": floor_sodium_verify},
        "microcred": {"sign": ours_sign, "verify": ours_verify,
                      "proof only": lambda: verify_proofs(case.signed, public_key_from_did_key)},
        "naive pyld": {"sign": lambda: naive_sign(case.document, keys.key, vm),
                       "verify": lambda: naive_verify(case.signed, public)},
    }
    if has_fast_switch():
        sides["fast=False"] = {op: without_fast(call) for op, call in sides["microcred"].items()}
    return sides


def check_identical(case: Case, keys: Keys, sides: dict) -> None:
    """Every Python side signs to the same proof and verifies microcred's signed credential."""
    assert case.doc_nquads == naive_canon(case.document), f"{case.name}: N-Quads differ from naive pyld"
    expected = case.signed["proof"]["proofValue"]
    assert sides["floor"]["sign"]() == expected, f"{case.name}: the floor signs differently"
    sides["floor sodium"]["verify"]()  # raises unless libsodium verifies the signed credential
    assert sides["naive pyld"]["sign"]() == case.signed, f"{case.name}: naive pyld signs differently"
    assert naive_verify(case.signed, keys.key.public), f"{case.name}: naive pyld does not verify"
    report = sides["microcred"]["verify"]()
    assert report.verified, f"{case.name}: microcred does not verify: {report.checks}"
    assert sides["microcred"]["proof only"]().verified
    if "fast=False" in sides:
        with pyld_path():
            assert canonicalize(case.document) == case.doc_nquads, f"{case.name}: fast=False N-Quads differ"
        assert sides["fast=False"]["sign"]() == case.signed, f"{case.name}: fast=False signs differently"
        assert sides["fast=False"]["verify"]().verified


# --------------------------------------------------------------------------- jsonld.js on node

class JsSide:
    """``benchmarks/js/sign_verify.mjs`` set up with the cases; its proof values checked after every batch."""

    def __init__(self, cases: dict[str, Case], keys: Keys):
        self._node = NodeScript("sign_verify.mjs")
        try:
            answer = self._node.ask({"op": "setup", "contexts": CONTEXTS, "created": CREATED,
                                     "now": NOW.isoformat().replace("+00:00", "Z"),
                                     "privateKeyMultibase": keys.key.private_multibase(),
                                     "publicKeyMultibase": keys.key.public.to_multibase(),
                                     "cases": {n: {"credential": c.document, "signed": c.signed}
                                               for n, c in cases.items()}})
            self.check(answer, cases)
        except BaseException:
            self._node.close()
            raise
        self.versions = answer["versions"]

    @staticmethod
    def check(answer: dict, cases: dict[str, Case]) -> None:
        for name, case in cases.items():
            assert answer["proofValues"][name] == case.signed["proof"]["proofValue"], \
                f"{name}: jsonld.js signs differently"
            assert answer["verified"][name], f"{name}: jsonld.js does not verify microcred's signed credential"

    def run(self, rounds: int, cases: dict[str, Case]) -> dict[str, dict[str, list[float]]]:
        answer = self._node.ask({"op": "run", "rounds": rounds, "cases": list(cases)})
        self.check(answer, cases)  # still the same outputs after the loop
        return {name: answer["times"][name] for name in cases}

    def close(self) -> None:
        self._node.close()


# --------------------------------------------------------------------------- the run

Samples = dict[tuple[str, str, str], list[float]]  # (case, side, op) -> seconds


SAMPLE_SECONDS = 0.01  # one sample of a Python side: consecutive calls for about this long


def repeats(call: Callable[[], Any]) -> int:
    """How many consecutive calls make one sample of about :data:`SAMPLE_SECONDS` (at least one)."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return max(1, min(500, round(SAMPLE_SECONDS / max(statistics.median(times), 1e-6))))


def interleave(cases: dict[str, Case], sides: dict[str, dict], rounds: int, js: JsSide | None,
               batch: int = 10) -> Samples:
    """``rounds`` round-robin rounds of every Python (side, op) on every case; node in alternating batches.

    One sample of a Python side is the mean of a few consecutive calls (about 10 ms of them),
    after one untimed call, as the node side times consecutive calls: each side runs warm, as it
    would serving many credentials, instead of finding its caches emptied by the side before it
    (the first call after naive pyld's took 2.5 times as long as the fourth, and added about a
    tenth to microcred's verification time); the round robin still exposes every side to the
    same drift of the machine."""
    samples: Samples = {}
    order = [(name, side, op) for name in cases for side in sides[name] for op in sides[name][side]]
    counts = {key: repeats(sides[key[0]][key[1]][key[2]]) for key in order}
    done = 0
    while done < rounds:
        n = min(batch, rounds - done)
        for r in range(n):
            shift = (done + r) % len(order)
            for name, side, op in order[shift:] + order[:shift]:
                call = sides[name][side][op]
                k = counts[(name, side, op)]
                call()  # untimed: back from the side before it
                start = time.perf_counter()
                for _ in range(k):
                    call()
                samples.setdefault((name, side, op), []).append((time.perf_counter() - start) / k)
        if js is not None:
            for name, ops in js.run(n, cases).items():
                for op, times in ops.items():
                    samples.setdefault((name, "jsonld.js", op), []).extend(times)
        done += n
    return samples


@dataclass
class Result:
    """Medians in ms: ``ms[(case, side, op)]``; the quads of each case."""

    ms: dict[tuple[str, str, str], float]
    quads: dict[str, int]
    rounds: dict[str, int]
    notes: list[str]

    def get(self, case: str, side: str, op: str) -> float | None:
        return self.ms.get((case, side, op))


def run(rounds: int = 200, scale_rounds: int = 15, sizes: tuple[int, ...] = SIZES, use_js: bool = True,
        out=print) -> Result:
    keys, cases = make_cases(sizes)
    sides = {name: python_sides(case, keys) for name, case in cases.items()}
    notes: list[str] = []
    if not has_fast_switch():
        notes.append("fast=False: n/a (verifier.canonicalize.canonicalize has no `fast` keyword yet)")
    for name, case in cases.items():
        check_identical(case, keys, sides[name])
    why_not = node_unavailable() if use_js else "--no-js"
    js = None
    if why_not is None:
        js = JsSide(cases, keys)
        notes.append("jsonld.js: " + ", ".join(f"{k} {v}" for k, v in js.versions.items()))
    else:
        notes.append(f"jsonld.js: skipped ({why_not})")
    checked = [s for s in SIDES if s in sides["ob"] or (s == "jsonld.js" and js)]
    for name, case in cases.items():
        out(f"{name:9} {case.quads:4} quads; same proof value on every side ({', '.join(checked)})")
    try:
        ob = {"ob": cases["ob"]}
        scale = {n: c for n, c in cases.items() if n != "ob"}
        samples = interleave(ob, sides, rounds, js)
        if scale and scale_rounds:
            samples.update(interleave(scale, sides, scale_rounds, js, batch=3))
    finally:
        if js is not None:
            js.close()
    for name, case in cases.items():  # still the same outputs after the loop (nothing drifted)
        check_identical(case, keys, sides[name])
    ms = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    result = Result(ms, {n: c.quads for n, c in cases.items()},
                    {"ob": rounds, **{n: scale_rounds for n in cases if n != "ob"}}, notes)
    report(result, out)
    return result


# --------------------------------------------------------------------------- the report

TARGETS = {"naive pyld": {"sign": 25.0, "verify": 11.0}, "jsonld.js": {"sign": 8.0, "verify": 8.0},
           "floor": 3.0, "scale": 5.0}


def _fmt(value: float | None, width: int = 9) -> str:
    return f"{value:{width}.3f}" if value is not None else f"{'n/a':>{width}}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def figures(result: Result) -> list[dict]:
    """The issue-13 figures of this run: name, measured/baseline (ms), ratio, target, met."""
    rows: list[dict] = []

    def add(name: str, measured: float | None, baseline: float | None, ratio: float | None, target: str,
            met: bool | None) -> None:
        rows.append({"figure": name, "measured": measured, "baseline": baseline, "unit": "ms", "ratio": ratio,
                     "target": target, "met": met})

    for op in ("sign", "verify"):
        ours = result.get("ob", "microcred", op)
        for side in ("naive pyld", "jsonld.js"):
            lead, goal = _ratio(result.get("ob", side, op), ours), TARGETS[side][op]
            add(f"ob {op} vs {side}", ours, result.get("ob", side, op), lead, f">= {goal:g}x",
                None if lead is None else lead >= goal)
        cost = _ratio(ours, result.get("ob", "floor", op))
        add(f"ob {op} / floor", ours, result.get("ob", "floor", op), cost, f"<= {TARGETS['floor']:g}x (cost)",
            None if cost is None else cost <= TARGETS["floor"])
        sodium = result.get("ob", "floor sodium", op)
        if sodium is not None:
            add(f"ob {op} / floor with libsodium Ed25519", ours, sodium, _ratio(ours, sodium), "(info)", None)
        fast_gain = _ratio(result.get("ob", "fast=False", op), ours)
        if fast_gain is not None:
            add(f"ob {op} vs fast=False", ours, result.get("ob", "fast=False", op), fast_gain, "(info)", None)
    scale = sorted((n for n in result.quads if n != "ob"), key=lambda n: int(n.split("-")[1]))
    for op in ("sign", "verify"):
        leads = [_ratio(result.get(n, "naive pyld", op), result.get(n, "microcred", op)) for n in scale]
        for name, lead in zip(scale, leads, strict=True):
            add(f"{name} ({result.quads[name]} q) {op} vs naive pyld", result.get(name, "microcred", op),
                result.get(name, "naive pyld", op), lead, f">= {TARGETS['scale']:g}x",
                None if lead is None else lead >= TARGETS["scale"])
        if len(leads) > 1 and None not in leads:
            keeps = leads[-1] / leads[0]  # type: ignore[operator]
            add(f"{op} lead {scale[-1]} / {scale[0]} (not shrinking)", None, None, keeps, ">= 0.9x", keeps >= 0.9)
    for name in scale:
        lead = _ratio(result.get(name, "naive pyld", "verify"), result.get(name, "microcred", "proof only"))
        add(f"{name} ({result.quads[name]} q) proof only vs naive pyld", result.get(name, "microcred", "proof only"),
            result.get(name, "naive pyld", "verify"), lead, "(info)", None)
    return rows


def report(result: Result, out=print) -> None:
    shown = [s for s in SIDES if any(k[1] == s for k in result.ms)]
    for group, names in (("ob", ["ob"]), ("scaling", [n for n in result.quads if n != "ob"])):
        if not names:
            continue
        out(f"\n{group}: {result.rounds[names[0]]} interleaved rounds, medians in ms "
            "(microcred verify = full offline verification; baselines verify the proof)")
        out(f"{'case':9} {'quads':>5} {'op':6} " + " ".join(f"{s:>10}" for s in shown)
            + f" {'proof only':>10} {'x naive':>8} {'x js':>6} {'/floor':>7}")
        for name in names:
            for op in ("sign", "verify"):
                ours = result.get(name, "microcred", op)
                only = result.get(name, "microcred", "proof only") if op == "verify" else None
                out(f"{name:9} {result.quads[name]:5} {op:6} "
                    + " ".join(_fmt(result.get(name, s, op), 10) for s in shown) + f" {_fmt(only, 10)}"
                    + f" {_x(_ratio(result.get(name, 'naive pyld', op), ours), 8)}"
                    + f" {_x(_ratio(result.get(name, 'jsonld.js', op), ours), 6)}"
                    + f" {_x(_ratio(ours, result.get(name, 'floor', op)), 7)}")
    out("")
    for note in result.notes:
        out(note)
    out(f"\n{'figure':48} {'microcred':>9} {'baseline':>10} {'ratio':>8}  {'target':17} met")
    for row in figures(result):
        met = {True: "yes", False: "NO", None: "-"}[row["met"]]
        out(f"{row['figure']:48} {_fmt(row['measured'])} {_fmt(row['baseline'], 10)} {_x(row['ratio'], 8)}"
            f"  {row['target']:17} {met}")


def _x(value: float | None, width: int) -> str:
    return f"{value:{width - 1}.1f}x" if value is not None else f"{'n/a':>{width}}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="rounds on the ob credential")
    parser.add_argument("--scale-rounds", type=int, default=15, help="rounds on the scaling series (0: skip)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="alignments of the scaling series")
    parser.add_argument("--no-js", action="store_true", help="leave out the jsonld.js side")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip())
    run(args.rounds, args.scale_rounds, sizes, use_js=not args.no_js)
