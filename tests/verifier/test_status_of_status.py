"""A status list credential is itself checked for status, one level deep, and must be current
(issue 11 §5): a revoked, suspended or expired list is not trusted, and a list whose own status
cannot be checked leaves the credential's status unknown, never "not revoked"."""
from __future__ import annotations

import pytest

from tests.verifier.reading_attacks import NOW, V2, FixtureSigner, encoded_list
from verifier import verify_credential

LIST = "https://status.example/lists/1"
LIST_OF_LISTS = "https://status.example/lists/meta"
INDEX = 7
LIST_INDEX = 99


def _list(signer: FixtureSigner, url: str, *, revoked: int, status_of_list: dict | None = None,
          valid_until: str | None = None) -> dict:
    document = {"@context": [V2], "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "issuer": signer.did, "validFrom": "2026-01-01T00:00:00Z",
                "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList",
                                      "statusPurpose": "revocation", "encodedList": encoded_list(revoked)}}
    if status_of_list:
        document["credentialStatus"] = status_of_list
    if valid_until:
        document["validUntil"] = valid_until
    return signer.sign_document(document)


def _entry(url: str, index: int) -> dict:
    return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": str(index), "statusListCredential": url}


def _credential(signer: FixtureSigner) -> dict:
    return signer.sign_document({
        "@context": [V2], "id": "urn:uuid:5b0e0c1e-1a52-4d7f-9f0e-7d6c2b1a0f11", "type": ["VerifiableCredential"],
        "issuer": signer.did, "validFrom": "2026-01-15T09:00:00Z", "credentialSubject": {"id": "did:example:alice"},
        "credentialStatus": _entry(LIST, INDEX)})


@pytest.fixture(scope="module")
def signer() -> FixtureSigner:
    return FixtureSigner()


def _status(signer, documents) -> tuple[str, str | None]:
    report = verify_credential(_credential(signer), now=NOW, documents=documents, offline=True)
    check = report.check("status")
    return check.status, check.reason


def test_a_current_list_whose_own_status_is_clear_is_trusted(signer):
    documents = {LIST: _list(signer, LIST, revoked=1, status_of_list=_entry(LIST_OF_LISTS, LIST_INDEX)),
                 LIST_OF_LISTS: _list(signer, LIST_OF_LISTS, revoked=1)}
    assert _status(signer, documents) == ("passed", None)


def test_a_revoked_status_list_is_not_trusted(signer):
    documents = {LIST: _list(signer, LIST, revoked=1, status_of_list=_entry(LIST_OF_LISTS, LIST_INDEX)),
                 LIST_OF_LISTS: _list(signer, LIST_OF_LISTS, revoked=LIST_INDEX)}
    assert _status(signer, documents) == ("failed", "status_list_untrusted")


def test_a_status_list_whose_own_status_is_unreachable_leaves_the_status_unknown(signer):
    documents = {LIST: _list(signer, LIST, revoked=1, status_of_list=_entry(LIST_OF_LISTS, LIST_INDEX))}
    assert _status(signer, documents) == ("indeterminate", "status_list_unreachable")


def test_an_expired_status_list_is_not_trusted(signer):
    documents = {LIST: _list(signer, LIST, revoked=1, valid_until="2026-03-01T00:00:00Z")}
    status, reason = _status(signer, documents)
    assert status == "indeterminate" and reason in ("status_list_expired",)


def test_the_status_of_the_list_of_lists_is_not_followed(signer):
    # the list of lists points at a third list that does not exist: one level deep means it is never fetched
    documents = {LIST: _list(signer, LIST, revoked=1, status_of_list=_entry(LIST_OF_LISTS, LIST_INDEX)),
                 LIST_OF_LISTS: _list(signer, LIST_OF_LISTS, revoked=1,
                                      status_of_list=_entry("https://status.example/lists/none", 3))}
    assert _status(signer, documents) == ("passed", None)
