#!/usr/bin/env python3
"""eddsa-rdfc-2022 sign and verify: microcred against a naive pyld baseline, in one run.

    python benchmarks/bench_sign_verify.py [--rounds 200]

The baseline is what a straightforward implementation does: ``pyld.jsonld.normalize``
(URDNA2015) of the document and of the proof configuration on every call, with a
plain dict-returning document loader over the same bundled contexts. Both sides are
timed interleaved, round by round, so drift of the machine affects them alike; the
report gives medians and the ratio baseline / microcred. Before timing, both paths
must produce the same proof value and the same canonical N-Quads on every credential.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pyld import jsonld

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.credentials import endorsement_credential, large_credential, small_credential  # noqa: E402
from issuer import sign_credential  # noqa: E402
from issuer.keys.files import generate_key  # noqa: E402
from verifier.canonicalize import canonicalize  # noqa: E402
from verifier.contexts import load_bundled_context  # noqa: E402
from verifier.keys import public_key_from_did_key  # noqa: E402
from verifier.multiformats import multibase_decode, multibase_encode  # noqa: E402
from verifier.proofs import verify_proofs  # noqa: E402

CREATED = "2026-01-01T00:00:00Z"


def _timed(times: list[float], call: Callable[[], object]) -> None:
    """Run ``call`` once and append its wall time to ``times``."""
    start = time.perf_counter()
    call()
    times.append(time.perf_counter() - start)


def naive_loader(url, options=None):
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
            "document": copy.deepcopy(load_bundled_context(url))}


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


def check_identical(document: dict, key, vm: str) -> None:
    ours = sign_credential(document, key, verification_method=vm, created=CREATED)
    theirs = naive_sign(document, key, vm)
    assert ours == theirs, "microcred and the naive path disagree on the signed credential"
    assert canonicalize(document) == naive_canon(document)
    assert naive_verify(ours, key.public) and verify_proofs(ours, public_key_from_did_key).verified


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run(rounds: int) -> int:
    key = generate_key("ed25519")
    vm = f"{key.public.to_did_key()}#{key.public.to_multibase()}"
    endorser = generate_key("ed25519")
    endorsement = sign_credential(endorsement_credential(), endorser, created=CREATED,
                                  verification_method=f"{endorser.public.to_did_key()}#{endorser.public.to_multibase()}")
    cases = {"ob": small_credential(), "ob-large": large_credential(endorsement)}
    for name, doc in cases.items():
        check_identical(doc, key, vm)
        quads = canonicalize(doc).count("\n")
        print(f"{name}: {quads} quads; output identical to the naive path")

    print(f"\n{rounds} interleaved rounds, medians in ms (ratio = naive / microcred)\n")
    print(f"{'case':10} {'op':7} {'naive':>9} {'microcred':>10} {'ratio':>7}")
    for name, doc in cases.items():
        signed = sign_credential(doc, key, verification_method=vm, created=CREATED)
        times = {k: [] for k in ("naive sign", "ours sign", "naive verify", "ours verify")}
        for _ in range(rounds):
            _timed(times["naive sign"], partial(naive_sign, doc, key, vm))
            _timed(times["ours sign"], partial(sign_credential, doc, key, verification_method=vm, created=CREATED))
            _timed(times["naive verify"], partial(naive_verify, signed, key.public))
            _timed(times["ours verify"], partial(verify_proofs, signed, public_key_from_did_key))
        for op in ("sign", "verify"):
            naive, ours = median_ms(times[f"naive {op}"]), median_ms(times[f"ours {op}"])
            print(f"{name:10} {op:7} {naive:9.3f} {ours:10.3f} {naive / ours:6.1f}x")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    sys.exit(run(parser.parse_args().rounds))
