"""The run memo of the issuer's self-check (:class:`verifier.checks.status.RunMemo`).

Verifying many credentials against the same documents (a bulk run) parses each document,
decodes each status list and resolves each key once; every check still runs on every
credential, and anything keyed by content is read afresh when that content changes: a bit set
in a new version of the list is reported, a new key in a new DID document is the one used.
"""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from tests.verifier.signing_support import TestSigner
from verifier import verify_credential
from verifier.bitstring import encode_bitstring
from verifier.checks import signature as signature_check
from verifier.checks import status as status_check
from verifier.checks.status import RunMemo
from verifier.proofs import eddsa_rdfc_2022
from verifier.status_entry import _SPACE_OR_CONTROL, Stop, parse_url

V2 = "https://www.w3.org/ns/credentials/v2"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
DID = "did:web:issuer.example"
VM = f"{DID}#key-1"
DID_URL = "https://issuer.example/.well-known/did.json"
LIST = "https://issuer.example/status/1"


def _sign(document: dict, key: TestSigner) -> dict:
    options = {"created": "2026-01-10T00:00:00Z", "verificationMethod": VM, "proofPurpose": "assertionMethod"}
    return {**document, "proof": eddsa_rdfc_2022.create_proof(document, options, key)}


def _did_document(key: TestSigner) -> bytes:
    return json.dumps({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"], "id": DID,
        "verificationMethod": [{"id": VM, "type": "Multikey", "controller": DID,
                                "publicKeyMultibase": key.public.to_multibase()}],
        "assertionMethod": [VM]}).encode()


def _status_list(key: TestSigner, revoked: tuple[int, ...] = ()) -> bytes:
    bits = bytearray(131_072 // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    return json.dumps(_sign({
        "@context": [V2], "id": LIST, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": DID, "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": f"{LIST}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                              "encodedList": encode_bitstring(bytes(bits))}}, key)).encode()


def _credential(key: TestSigner, index: int) -> dict:
    return _sign({
        "@context": [V2], "id": f"urn:uuid:5b0e0c1e-1a52-4d7f-9f0e-{index:012d}", "type": ["VerifiableCredential"],
        "issuer": DID, "validFrom": "2026-01-15T09:00:00Z", "credentialSubject": {"id": "did:example:alice"},
        "credentialStatus": {"id": f"{LIST}#{index}", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": str(index),
                             "statusListCredential": LIST}}, key)


@pytest.fixture(scope="module")
def key() -> TestSigner:
    return TestSigner()


def _verify(credential: dict, documents: dict[str, bytes], memo: object):
    return verify_credential(credential, now=NOW, offline=True, strict=True, documents=documents, memo=memo,
                             flag_supplied=False)


def _verdicts(report) -> list[tuple[str, str, str | None, str]]:
    return [(c.check, c.status, c.reason, c.message) for c in report.checks]


class _Counter:
    def __init__(self, monkeypatch, module, name: str) -> None:
        self.calls = 0
        original = getattr(module, name)

        def counted(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)


def test_documents_are_parsed_decoded_and_resolved_once_per_run(key, monkeypatch):
    parses = _Counter(monkeypatch, status_check, "parse_json_response")
    decodes = _Counter(monkeypatch, status_check, "decode_bitstring")
    resolutions = _Counter(monkeypatch, signature_check, "resolve_verification_method")
    documents = {DID_URL: _did_document(key), LIST: _status_list(key, revoked=(3,))}
    memo = RunMemo()
    for index in range(10, 16):
        assert _verify(_credential(key, index), documents, memo).verified
    assert (parses.calls, decodes.calls, resolutions.calls) == (1, 1, 1)
    assert memo.hits == {"parsed": 5, "bitstrings": 5, "methods": 6}   # methods: the list's own proof too


def test_the_run_memo_changes_no_verdict(key):
    documents = {DID_URL: _did_document(key), LIST: _status_list(key, revoked=(3,))}
    memo = RunMemo()
    for index in (10, 3, 11, 3):
        credential = _credential(key, index)
        with_memo, without = _verify(credential, documents, memo), _verify(credential, documents, None)
        assert _verdicts(with_memo) == _verdicts(without)
        assert with_memo.to_dict() == without.to_dict()
        assert with_memo.verified is (index != 3)


def test_a_revoked_bit_in_a_new_list_is_reported_at_once(key):
    memo = RunMemo()
    credential = _credential(key, 12)
    documents = {DID_URL: _did_document(key), LIST: _status_list(key)}
    assert _verify(credential, documents, memo).verified
    assert _verify(credential, documents, memo).verified                    # now from the memo
    documents = {**documents, LIST: _status_list(key, revoked=(12,))}       # the list changes: new bytes
    status = _verify(credential, documents, memo).check("status")
    assert (status.status, status.reason) == ("failed", "revoked")
    assert len(memo.parsed) == 2 and len(memo.bitstrings) == 2


# The status memo itself (a plain dict before the run memo existed) remembers that a list
# verified by the list's content alone, so the comparisons below are with a plain dict that saw
# the same verifications: the run memo adds nothing a changed document could be answered from.

def test_a_new_did_document_is_resolved_afresh(key):
    memo, plain = RunMemo(), {}
    credential = _credential(key, 12)
    documents = {DID_URL: _did_document(key), LIST: _status_list(key)}
    assert _verify(credential, documents, memo).verified and _verify(credential, documents, plain).verified
    other = TestSigner()
    documents = {**documents, DID_URL: _did_document(other)}                # the key was replaced
    report = _verify(credential, documents, memo)
    assert not report.verified
    assert (report.check("proof").status, report.check("proof").reason) == ("failed", "signature_mismatch")
    assert _verdicts(report) == _verdicts(_verify(credential, documents, plain))
    fresh = _verify(_credential(other, 12), {**documents, LIST: _status_list(other)}, memo)
    assert fresh.verified


def test_a_key_document_that_is_no_longer_given_is_not_answered_from_the_memo(key):
    memo, plain = RunMemo(), {}
    credential = _credential(key, 12)
    documents = {DID_URL: _did_document(key), LIST: _status_list(key)}
    assert _verify(credential, documents, memo).verified and _verify(credential, documents, plain).verified
    report = _verify(credential, {LIST: documents[LIST]}, memo)             # offline, no DID document
    assert (report.check("key").status, report.check("key").reason) == ("indeterminate", "key_unresolvable")
    assert _verdicts(report) == _verdicts(_verify(credential, {LIST: documents[LIST]}, plain))


def test_a_plain_dict_memo_caches_nothing_new(key, monkeypatch):
    parses = _Counter(monkeypatch, status_check, "parse_json_response")
    resolutions = _Counter(monkeypatch, signature_check, "resolve_verification_method")
    documents = {DID_URL: _did_document(key), LIST: _status_list(key)}
    memo: dict = {}
    for index in (10, 11, 12):
        assert _verify(_credential(key, index), documents, memo).verified
    assert parses.calls == 0                       # the plain fetch_json path, as before
    assert resolutions.calls == 3 + 1              # each credential, and the list's proof once
    assert all(isinstance(k, str) for k in memo)   # only status list digests


def test_the_space_or_control_pattern_is_str_isspace_or_a_control():
    every = "".join(map(chr, range(0x110000)))
    expected = {c for c in every if c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F}
    assert set(_SPACE_OR_CONTROL.findall(every)) == expected
    assert re.compile(r"\s").search("\u00a0") and _SPACE_OR_CONTROL.search("a\u2028b")
    with pytest.raises(Stop):
        parse_url("https://status.example/a\u3000b", "statusListCredential")
    assert parse_url("https://status.example/lists/1", "statusListCredential") == "https://status.example/lists/1"
