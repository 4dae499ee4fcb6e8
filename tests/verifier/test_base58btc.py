"""base58btc by hand (verifier/base58btc.py): the same text as the base58 package, bounded cost."""
from __future__ import annotations

import random
from datetime import UTC, datetime

import base58
import pytest

from tests.verifier.signing_support import TestSigner, credential, sign_data_integrity
from verifier import verify_credential
from verifier.base58btc import MAX_TEXT, b58decode, b58encode
from verifier.errors import KeyFormatError
from verifier.multiformats import multibase_decode


def test_the_same_text_as_the_base58_package_on_random_bytes() -> None:
    rng = random.Random(58)
    samples = [b"", b"\0", b"\0\0\0", b"\0\x01", bytes(range(256)), b"\xff" * 64]
    samples += [b"\0" * rng.randrange(4) + rng.randbytes(rng.randrange(0, 120)) for _ in range(3000)]
    for data in samples:
        text = b58encode(data)
        assert text == base58.b58encode(data).decode("ascii")
        assert b58decode(text) == data == base58.b58decode(text)


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "z1+", "abc\n", "é"])
def test_characters_outside_the_alphabet_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a base58btc character"):
        b58decode(text)


def test_text_longer_than_any_key_or_signature_is_refused_before_decoding() -> None:
    assert len(b58encode(b"\xff" * 600)) < MAX_TEXT  # an RSA-4096 key in DER is about 550 bytes
    with pytest.raises(ValueError, match="longer than"):
        b58decode("2" * (MAX_TEXT + 1))
    with pytest.raises(KeyFormatError):
        multibase_decode("z" + "2" * 1_000_000)


def test_a_megabyte_proof_value_is_a_malformed_proof_not_minutes_of_work() -> None:
    """Decoding 1 MiB of base58 digit by digit took minutes (quadratic): the verdict comes at once."""
    signer = TestSigner()
    signed = sign_data_integrity(credential(signer.did), signer)
    signed["proof"]["proofValue"] = "z" + "2" * (1024 * 1024 - 2)
    report = verify_credential(signed, offline=True, now=datetime(2026, 6, 1, tzinfo=UTC))
    assert not report.verified
    proof = next(c for c in report.checks if c.check == "proof")
    assert proof.status == "failed"
