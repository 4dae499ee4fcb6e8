"""verifier.status: Bitstring Status List, StatusList2021 and 1EdTech revocation lists.

Everything runs offline: the network is a dict of URL -> document, and the
status list credential's proof check is a callable that raises CredentialError
for chosen lists.
"""
from __future__ import annotations

import base64
import copy
import gzip
import struct
import time
import tracemalloc
import zlib
from datetime import UTC, datetime

import pytest

from verifier.bitstring import StatusListError, bit_at, decode_bitstring, encode_bitstring
from verifier.errors import CredentialError
from verifier.status import MIN_ENTRIES, StatusOutcome, check_status

ISSUER = "did:web:hr.example.com"
LIST_URL = "https://hr.example.com/status/1"
SUSPENSION_URL = "https://hr.example.com/status/2"
RL_URL = "https://hr.example.com/credentials/revocations"
CREDENTIAL_ID = "urn:uuid:2f5b8c8e-4d0a-4c5b-9d55-6d2a4b3f7e01"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
LAST = MIN_ENTRIES - 1

# The "Example BitstringStatusListCredential" of W3C Bitstring Status List v1.0
# (w3c/vc-bitstring-status-list, index.html): an all-clear list of 131,072 entries.
W3C_EXAMPLE_ENCODED_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


# --------------------------------------------------------------------------- fixtures

def bits_with(*indices: int, entries: int = MIN_ENTRIES) -> bytes:
    """A bitstring of ``entries`` 1-bit entries with the given indices set (index 0 = MSB of byte 0)."""
    data = bytearray(entries // 8)
    for index in indices:
        data[index // 8] |= 0x80 >> (index % 8)
    return bytes(data)


def list_credential(encoded_list: str | None = None, *, kind: str = "bitstring", purpose="revocation",
                    issuer=ISSUER, url: str = LIST_URL, **overrides) -> dict:
    if encoded_list is None:
        encoded_list = encode_bitstring(bits_with())
    credential_type, subject_type = {
        "bitstring": ("BitstringStatusListCredential", "BitstringStatusList"),
        "2021": ("StatusList2021Credential", "StatusList2021"),
    }[kind]
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", credential_type],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": f"{url}#list",
            "type": subject_type,
            "statusPurpose": purpose,
            "encodedList": encoded_list,
        },
        "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "proofValue": "zFake"},
    }
    document.update(overrides)
    return document


def entry(index="0", *, purpose="revocation", url=LIST_URL, type_="BitstringStatusListEntry", **extra) -> dict:
    found = {"id": f"{url}#{index}", "type": type_, "statusPurpose": purpose,
             "statusListIndex": index, "statusListCredential": url}
    found.update(extra)
    return found


def credential(status=None, *, issuer=ISSUER, **extra) -> dict:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": CREDENTIAL_ID,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": "2025-02-01T00:00:00Z",
        "credentialSubject": {"type": "AchievementSubject", "id": "did:example:employee"},
    }
    if status is not None:
        document["credentialStatus"] = status
    document.update(extra)
    return document


class FetchFailed(Exception):
    code = "unreachable"


class Net:
    """Fake fetch_json / verify_list_credential over a dict of URL -> document."""

    def __init__(self, documents: dict | None = None, *, untrusted: dict | None = None):
        self.documents = dict(documents or {})
        self.untrusted = dict(untrusted or {})   # list id -> CredentialError code
        self.fetched: list[str] = []
        self.verified: list[str] = []

    def fetch_json(self, url: str) -> object:
        self.fetched.append(url)
        found = self.documents.get(url)
        if isinstance(found, BaseException):
            raise found
        if found is None:
            raise FetchFailed(f"HTTP 404 for {url}")
        return copy.deepcopy(found)

    def verify_list_credential(self, document: dict) -> None:
        self.verified.append(document.get("id"))
        code = self.untrusted.get(document.get("id"))
        if code:
            raise CredentialError(f"the status list credential did not verify ({code})", code=code)


def check(cred: dict, net: Net, *, now: datetime = NOW) -> StatusOutcome:
    return check_status(cred, fetch_json=net.fetch_json, verify_list_credential=net.verify_list_credential,
                        now=now)


def with_list(*set_indices: int, purpose="revocation", **list_overrides) -> Net:
    encoded = encode_bitstring(bits_with(*set_indices))
    return Net({LIST_URL: list_credential(encoded, purpose=purpose, **list_overrides)})


def assert_outcome(outcome: StatusOutcome, status: str, reason: str | None) -> None:
    assert (outcome.status, outcome.reason) == (status, reason), outcome
    assert outcome.message and outcome.message[0].isupper()
    # verify.py passes details as keyword arguments next to these names
    assert not {"check", "status", "message", "reason"} & set(outcome.details), outcome.details


# --------------------------------------------------------------------------- no status

@pytest.mark.parametrize("status", [None, []])
def test_no_credential_status_is_skipped(status):
    cred = credential()
    if status is not None:
        cred["credentialStatus"] = status
    net = Net()
    outcome = check(cred, net)
    assert_outcome(outcome, "skipped", "no_status")
    assert "publishes no way to withdraw this badge" in outcome.message
    assert net.fetched == []


def test_only_refresh_entries_say_nothing_about_revocation():
    net = with_list(0, purpose="refresh")
    outcome = check(credential(entry("0", purpose="refresh")), net)
    assert_outcome(outcome, "skipped", "no_status")
    assert outcome.details["entries"][0]["value"] == 1


# --------------------------------------------------------------------------- clear, revoked, suspended

def test_clear_bit_passes():
    outcome = check(credential(entry("94567")), with_list(0, 94566, 94568, LAST))
    assert_outcome(outcome, "passed", None)
    assert outcome.message == "Not revoked (checked against the issuer's published list)."
    assert outcome.details["entries"][0]["list"] == LIST_URL


@pytest.mark.parametrize("index", [0, 7, 8, LAST])
def test_revoked_bit_order(index):
    net = with_list(index)
    outcome = check(credential(entry(str(index))), net)
    assert_outcome(outcome, "failed", "revoked")
    assert outcome.message == "The issuer has revoked this badge."
    # the neighbours are clear: index 0 is the left-most (most significant) bit of the first byte
    for neighbour in (index - 1, index + 1):
        if 0 <= neighbour <= LAST:
            assert check(credential(entry(str(neighbour))), net).status == "passed", neighbour


@pytest.mark.parametrize("index", [0, 7, 8, LAST])
def test_suspended_bit_order(index):
    net = with_list(index, purpose="suspension")
    outcome = check(credential(entry(index, purpose="suspension")), net)   # an int index is accepted too
    assert_outcome(outcome, "failed", "suspended")
    assert outcome.message == "The issuer has suspended this badge."
    for neighbour in (index - 1, index + 1):
        if 0 <= neighbour <= LAST:
            found = check(credential(entry(neighbour, purpose="suspension")), net)
            assert_outcome(found, "passed", None)
            assert found.message == "Not suspended (checked against the issuer's published list)."


def test_bit_at_reads_most_significant_bit_first():
    data = bytes([0b1000_0001, 0b1000_0000, 0b0110_1100])
    assert [bit_at(data, i) for i in range(10)] == [1, 0, 0, 0, 0, 0, 0, 1, 1, 0]
    assert bit_at(data, 8, 2) == 0b01 and bit_at(data, 9, 2) == 0b10 and bit_at(data, 10, 2) == 0b11
    assert bit_at(data, 1, 4) == 0b0001 and bit_at(data, 2, 8) == 0b0110_1100
    assert bit_at(bytes([0x01, 0x80]), 1, 5) == 0b00110  # bits 5..9 span a byte boundary
    with pytest.raises(IndexError):
        bit_at(data, 24)
    with pytest.raises(IndexError):
        bit_at(data, 3, 8)
    for bad in (-1, True, 1.0):
        with pytest.raises(ValueError):
            bit_at(data, bad)
    with pytest.raises(ValueError):
        bit_at(data, 0, 0)


def test_encode_bitstring_round_trips_and_is_deterministic():
    bits = bits_with(0, 7, 8, LAST)
    encoded = encode_bitstring(bits)
    assert encoded.startswith("uH4sI") and "=" not in encoded
    assert encoded == encode_bitstring(bits)
    assert decode_bitstring(encoded) == bits
    assert bits[0] == 0b1000_0001 and bits[1] == 0b1000_0000 and bits[-1] == 0b0000_0001


def test_w3c_example_encoded_list_is_16kb_of_zero_bits():
    bits = decode_bitstring(W3C_EXAMPLE_ENCODED_LIST)
    assert len(bits) == 16 * 1024 and len(bits) * 8 == 131_072
    assert not any(bits)
    net = Net({LIST_URL: list_credential(W3C_EXAMPLE_ENCODED_LIST)})
    assert_outcome(check(credential(entry("94567")), net), "passed", None)


# --------------------------------------------------------------------------- the entry itself

@pytest.mark.parametrize("index", [
    "-1", "abc", "1e3", "007", "00", "+1", " 1", "1 ", "1_000", "0x10", "1.0", "", "\u0661\u0662",
    str(2 ** 64), 2 ** 64, "9" * 5000, -1, True, 1.0, None, [1], {"n": 1},
    str(16 * 1024 * 1024 * 8),            # past the largest list this verifier would ever inflate
])
def test_index_abuse_is_malformed_without_fetching(index):
    status = entry("0")
    if index is None:
        del status["statusListIndex"]
    else:
        status["statusListIndex"] = index
    net = with_list()
    outcome = check(credential(status), net)
    assert_outcome(outcome, "failed", "malformed_status")
    assert net.fetched == []   # nothing is fetched, nothing allocated, for a bad index


@pytest.mark.parametrize("index", ["0", 0, "131071", 131071])
def test_index_forms_accepted(index):
    assert check(credential(entry(index)), with_list()).status == "passed"


def test_index_past_the_end_of_the_list_is_out_of_range():
    outcome = check(credential(entry(str(MIN_ENTRIES))), with_list())
    assert_outcome(outcome, "failed", "status_index_out_of_range")
    assert outcome.details["list_entries"] == MIN_ENTRIES
    bigger = Net({LIST_URL: list_credential(encode_bitstring(bits_with(MIN_ENTRIES, entries=2 * MIN_ENTRIES)))})
    assert_outcome(check(credential(entry(str(MIN_ENTRIES))), bigger), "failed", "revoked")


@pytest.mark.parametrize("url", [
    "http//hr.example.com/status/1", "/status/1", "https://", "ftp://hr.example.com/status/1",
    "file:///etc/passwd", "javascript:alert(1)", "data:application/json,{}", "did:web:hr.example.com",
    "https://user:secret@hr.example.com/status/1", "https://hr.example.com/sta tus", "https://hr\n.example.com/",
    "https://" + "a" * 3000 + ".example.com/", 42, None, ["https://hr.example.com/status/1"],
])
def test_bad_status_list_url_is_malformed_without_fetching(url):
    net = with_list()
    outcome = check(credential(entry("0", url=url)), net)
    assert_outcome(outcome, "failed", "malformed_status")
    assert net.fetched == []


def test_http_url_is_passed_through_to_fetch_json():
    """Whether plain http is allowed is fetch_json's policy, not the parser's."""
    url = "http://hr.example.com/status/1"
    net = Net({url: list_credential(url=url)})
    assert check(credential(entry("0", url=url)), net).status == "passed"
    assert net.fetched == [url]


@pytest.mark.parametrize("mutate", [
    lambda e: e.pop("statusPurpose"),
    lambda e: e.update(statusPurpose=["revocation"]),
    lambda e: e.update(statusPurpose=""),
    lambda e: e.update(statusSize=0),
    lambda e: e.update(statusSize=-1),
    lambda e: e.update(statusSize="1"),
    lambda e: e.update(statusSize=True),
    lambda e: e.update(statusSize=2),                                  # without statusMessage
    lambda e: e.update(statusMessage=[{"status": "0x0", "message": "ok"}]),  # 1 bit needs 2 messages
    lambda e: e.pop("type"),
])
def test_malformed_entry(mutate):
    status = entry("0")
    mutate(status)
    net = with_list()
    assert_outcome(check(credential(status), net), "failed", "malformed_status")
    assert net.fetched == []


@pytest.mark.parametrize("status", ["https://hr.example.com/status/1", 42, True, ["not an object"]])
def test_credential_status_of_the_wrong_shape(status):
    assert_outcome(check(credential(status), Net()), "failed", "malformed_status")


def test_more_than_four_entries_is_malformed():
    net = with_list()
    outcome = check(credential([entry(str(i)) for i in range(5)]), net)
    assert_outcome(outcome, "failed", "malformed_status")
    assert net.fetched == []
    assert check(credential([entry(str(i)) for i in range(4)]), net).status == "passed"


# --------------------------------------------------------------------------- retrieving and trusting the list

@pytest.mark.parametrize("error", [
    FetchFailed("HTTP 404"), TimeoutError("timed out"), OSError("connection refused"),
    ValueError("text/html is not JSON"), CredentialError("offline", code="network_forbidden"),
])
def test_unreachable_list_is_indeterminate_never_passed(error):
    net = Net({LIST_URL: error})
    outcome = check(credential(entry("0")), net)
    assert_outcome(outcome, "indeterminate", "status_list_unreachable")
    assert "could not be checked" in outcome.message
    assert outcome.details["list"] == LIST_URL and outcome.details["error_code"]


def test_missing_list_is_unreachable():
    assert_outcome(check(credential(entry("0")), Net()), "indeterminate", "status_list_unreachable")


@pytest.mark.parametrize("code", ["signature_mismatch", "no_proof", "key_not_controlled_by_issuer",
                                  "revoked", "status_list_untrusted"])
def test_untrusted_list_fails_and_keeps_the_underlying_code(code):
    net = with_list()
    net.untrusted[LIST_URL] = code
    outcome = check(credential(entry("0")), net)
    assert_outcome(outcome, "failed", "status_list_untrusted")
    assert outcome.details["error_code"] == code
    assert net.verified == [LIST_URL]


@pytest.mark.parametrize("code, reason", [
    ("key_unresolvable", "status_list_unreachable"), ("network_forbidden", "status_list_unreachable"),
    ("expired", "status_list_expired"), ("not_yet_valid", "status_list_not_yet_valid"),
])
def test_list_verification_that_could_not_conclude_is_indeterminate(code, reason):
    net = with_list()
    net.untrusted[LIST_URL] = code
    outcome = check(credential(entry("0")), net)
    assert_outcome(outcome, "indeterminate", reason)
    assert outcome.details["error_code"] == code


def test_unverified_list_is_never_read():
    """A revoked bit in a list that fails verification does not count either way."""
    net = with_list(0)
    net.untrusted[LIST_URL] = "signature_mismatch"
    assert check(credential(entry("0")), net).reason == "status_list_untrusted"


@pytest.mark.parametrize("list_issuer", ["did:web:evil.example", {"id": "did:web:evil.example"},
                                         "did:web:hr.example.com:other", None, {"name": "HR"}])
def test_list_from_another_issuer_fails(list_issuer):
    net = with_list(issuer=list_issuer)
    outcome = check(credential(entry("0")), net)
    assert_outcome(outcome, "failed", "status_list_from_another_issuer")


@pytest.mark.parametrize("credential_issuer, list_issuer", [
    (ISSUER, {"id": ISSUER, "name": "HR"}), ({"id": ISSUER, "type": ["Profile"]}, ISSUER),
    ({"id": ISSUER}, {"id": ISSUER}),
])
def test_issuer_compared_by_id_as_string_or_object(credential_issuer, list_issuer):
    net = with_list(issuer=list_issuer)
    assert check(credential(entry("0"), issuer=credential_issuer), net).status == "passed"


def test_credential_without_issuer_cannot_bind_the_list():
    cred = credential(entry("0"))
    del cred["issuer"]
    assert_outcome(check(cred, with_list()), "failed", "status_list_from_another_issuer")


def test_purpose_mismatch_fails():
    net = with_list(purpose="suspension")
    outcome = check(credential(entry("0", purpose="revocation")), net)
    assert_outcome(outcome, "failed", "status_purpose_mismatch")
    assert outcome.details["list_purpose"] == "suspension"
    net = with_list(purpose=None)
    assert check(credential(entry("0")), net).reason == "status_purpose_mismatch"


def test_list_with_several_purposes_serves_each():
    net = with_list(3, purpose=["revocation", "suspension"])
    assert check(credential(entry("2", purpose="suspension")), net).status == "passed"
    assert check(credential(entry("3", purpose="suspension")), net).reason == "suspended"


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(type=["VerifiableCredential"]),
    lambda d: d.update(type="VerifiableCredential"),
    lambda d: d.update(type=["VerifiableCredential", "StatusList2021Credential"]),
    lambda d: d["credentialSubject"].update(type="StatusList2021"),
    lambda d: d["credentialSubject"].pop("type"),
    lambda d: d.update(id="https://hr.example.com/status/2"),
])
def test_list_of_the_wrong_kind_fails(mutate):
    document = list_credential()
    mutate(document)
    outcome = check(credential(entry("0")), Net({LIST_URL: document}))
    assert_outcome(outcome, "failed", "status_list_mismatch")


def test_bitstring_entry_does_not_accept_a_status_list_2021():
    net = Net({LIST_URL: list_credential(kind="2021")})
    assert_outcome(check(credential(entry("0")), net), "failed", "status_list_mismatch")
    net = with_list()
    assert_outcome(check(credential(entry("0", type_="StatusList2021Entry")), net), "failed",
                   "status_list_mismatch")


@pytest.mark.parametrize("dates", [
    {"validUntil": "2025-05-31T23:59:59Z"},
    {"validUntil": "2025-06-01T13:00:00+02:00"},          # 11:00 UTC, an hour before NOW
    {"expirationDate": "2024-12-31T00:00:00Z"},
    {"validUntil": "2030-01-01T00:00:00Z", "expirationDate": "2025-01-01T00:00:00.5Z"},
])
def test_expired_list_is_indeterminate(dates):
    outcome = check(credential(entry("0")), with_list(0, **dates))   # even with the bit set
    assert_outcome(outcome, "indeterminate", "status_list_expired")
    assert "expired" in outcome.message


def test_current_list_passes_and_naive_now_is_utc():
    net = with_list(validUntil="2025-06-01T12:00:01Z")
    assert check(credential(entry("0")), net).status == "passed"
    assert check(credential(entry("0")), net, now=NOW.replace(tzinfo=None)).status == "passed"
    assert check(credential(entry("0")), net, now=datetime(2025, 6, 1, 12, 0, 2, tzinfo=UTC)
                 ).reason == "status_list_expired"


@pytest.mark.parametrize("dates", [{"validFrom": "2025-06-02T00:00:00Z"}, {"issuanceDate": "2026-01-01T00:00:00Z"}])
def test_list_not_yet_valid_is_indeterminate(dates):
    assert_outcome(check(credential(entry("0")), with_list(**dates)), "indeterminate", "status_list_not_yet_valid")


@pytest.mark.parametrize("value", ["tomorrow", "2025-13-01T00:00:00Z", "2025-06-01", 1717793619, None,
                                   "\uff12\uff10\uff13\uff10-01-01T00:00:00Z"])
def test_list_with_unreadable_dates_is_malformed(value):
    assert_outcome(check(credential(entry("0")), with_list(validUntil=value)), "failed", "malformed_status_list")


# --------------------------------------------------------------------------- the encoded list

def _gzip_b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize("encoded, problem", [
    (encode_bitstring(bits_with())[1:], "not_multibase"),                  # no 'u' prefix on a Bitstring list
    ("z" + encode_bitstring(bits_with())[1:], "not_multibase"),
    ("u!!!!", "not_base64url"),
    ("uH4sI+AAA/", "not_base64url"),
    (encode_bitstring(bits_with()) + "=", "not_base64url"),
    ("uA", "not_base64url"),
    ("u", "not_base64url"),
    ("u" + _gzip_b64(bytes(16384)), "not_gzip"),                           # raw bits, not compressed
    ("u" + _gzip_b64(zlib.compress(bytes(16384))), "not_gzip"),            # zlib, not gzip
    ("u" + _gzip_b64(gzip.compress(bytes(16384), mtime=0)[:-12]), "not_gzip"),      # truncated
    ("u" + _gzip_b64(gzip.compress(bytes(16384), mtime=0) + b"junk"), "not_gzip"),  # trailing data
    ("u" + _gzip_b64(gzip.compress(bytes(16384), mtime=0)[:-8] + b"\0" * 8), "not_gzip"),  # bad CRC / length
    (encode_bitstring(b""), "empty"),
    (12345, "not_a_string"),
    (None, "not_a_string"),
])
def test_garbage_encoded_list_is_malformed(encoded, problem):
    with pytest.raises(StatusListError) as caught:
        decode_bitstring(encoded)
    assert caught.value.code == "malformed_status_list"
    assert caught.value.details["problem"] == problem
    document = list_credential()
    document["credentialSubject"]["encodedList"] = encoded
    outcome = check(credential(entry("0")), Net({LIST_URL: document}))
    assert_outcome(outcome, "failed", "malformed_status_list")
    assert outcome.details["problem"] == problem


@pytest.mark.parametrize("size_bytes", [1, 1024, 16 * 1024 - 1])
def test_list_shorter_than_16kb_is_malformed(size_bytes):
    net = Net({LIST_URL: list_credential(encode_bitstring(bytes(size_bytes)))})
    outcome = check(credential(entry("0")), net)
    assert_outcome(outcome, "failed", "malformed_status_list")
    assert outcome.details["problem"] == "too_short"


@pytest.mark.parametrize("mutate", [
    lambda d: d["credentialSubject"].pop("encodedList"),
    lambda d: d.pop("credentialSubject"),
    lambda d: d.update(credentialSubject=[d["credentialSubject"], d["credentialSubject"]]),
    lambda d: d.update(credentialSubject="list"),
])
def test_list_without_a_usable_subject_is_malformed(mutate):
    document = list_credential()
    mutate(document)
    outcome = check(credential(entry("0")), Net({LIST_URL: document}))
    assert_outcome(outcome, "failed", "malformed_status_list")


@pytest.mark.parametrize("document", [["not", "an", "object"], "a string", 42, True])
def test_list_that_is_not_an_object_is_malformed(document):
    outcome = check(credential(entry("0")), Net({LIST_URL: document}))
    assert_outcome(outcome, "failed", "malformed_status_list")


ONE_MIB = 1 << 20


def gzip_bomb(mebibytes: int) -> bytes:
    """GZIP of ``mebibytes`` MiB of zeros, built without compressing them all.

    Each MiB of zeros deflates to the same block after a full flush (the history is
    reset), so the stream is that block repeated, then the final block and the real
    CRC-32 and length trailer: a valid GZIP file of about 1 KB per MiB.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    zeros = bytes(ONE_MIB)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH) == block
    final = compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + block * mebibytes + final + struct.pack("<II", crc, (mebibytes * ONE_MIB) & 0xFFFFFFFF)


def test_gzip_bomb_construction_is_real_gzip():
    assert gzip.decompress(gzip_bomb(20)) == bytes(20 * ONE_MIB)


def test_one_gigabyte_gzip_bomb_is_refused_within_bounded_memory_and_time():
    bomb = gzip_bomb(1024)                       # 1 GiB of zeros
    assert len(bomb) < 1_200_000
    encoded = "u" + _gzip_b64(bomb)
    del bomb
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(StatusListError) as caught:
            decode_bitstring(encoded)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.details["problem"] == "too_large"
    assert peak < 32 * ONE_MIB, peak             # 16 MiB limit + working buffers, never 1 GiB
    assert elapsed < 5, elapsed
    outcome = check(credential(entry("0")), Net({LIST_URL: list_credential(encoded)}))
    assert_outcome(outcome, "failed", "malformed_status_list")
    assert outcome.details["problem"] == "too_large"


def test_list_at_the_size_limit_is_accepted():
    limit = 16 * ONE_MIB
    encoded = "u" + _gzip_b64(gzip_bomb(16))
    assert len(decode_bitstring(encoded)) == limit
    with pytest.raises(StatusListError):
        decode_bitstring(encoded, max_bytes=limit - 1)


# --------------------------------------------------------------------------- StatusList2021

def status_list_2021(encoded: str, purpose="revocation") -> Net:
    document = list_credential(encoded, kind="2021", purpose=purpose)
    document["@context"] = ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/vc/status-list/2021/v1"]
    del document["validFrom"]
    document["issuanceDate"] = "2024-01-01T00:00:00Z"
    return Net({LIST_URL: document})


@pytest.mark.parametrize("form", ["multibase", "plain", "plain_padded"])
def test_status_list_2021_in_both_encodings(form):
    encoded = encode_bitstring(bits_with(8, LAST))
    encoded = {"multibase": encoded, "plain": encoded[1:],
               "plain_padded": encoded[1:] + "=" * (-len(encoded[1:]) % 4)}[form]
    net = status_list_2021(encoded)
    for index, expected in ((8, "revoked"), (7, None), (9, None), (LAST, "revoked")):
        outcome = check(credential(entry(str(index), type_="StatusList2021Entry")), net)
        assert outcome.reason == expected, (index, outcome)
    assert decode_bitstring(encode_bitstring(bits_with(8))[1:], multibase=False) == bits_with(8)


def test_status_list_2021_suspension():
    net = status_list_2021(encode_bitstring(bits_with(0))[1:], purpose="suspension")
    assert check(credential(entry("0", purpose="suspension", type_="StatusList2021Entry")), net
                 ).reason == "suspended"


def test_status_list_2021_entry_does_not_accept_a_bitstring_list():
    outcome = check(credential(entry("0", type_="StatusList2021Entry")), with_list())
    assert_outcome(outcome, "failed", "status_list_mismatch")


# --------------------------------------------------------------------------- several entries

def two_lists(revoked=(), suspended=()) -> Net:
    return Net({
        LIST_URL: list_credential(encode_bitstring(bits_with(*revoked))),
        SUSPENSION_URL: list_credential(encode_bitstring(bits_with(*suspended)), purpose="suspension",
                                        url=SUSPENSION_URL),
    })


def both_entries(index="5"):
    return [entry(index), entry(index, purpose="suspension", url=SUSPENSION_URL)]


def test_several_entries_all_clear_pass():
    outcome = check(credential(both_entries()), two_lists(revoked=[4, 6], suspended=[4, 6]))
    assert_outcome(outcome, "passed", None)
    assert outcome.message == "Not revoked or suspended (checked against the issuer's published list)."
    assert [e["outcome"] for e in outcome.details["entries"]] == ["passed", "passed"]


@pytest.mark.parametrize("revoked, suspended, reason", [
    ([5], [], "revoked"), ([], [5], "suspended"), ([5], [5], "revoked"),
])
def test_one_set_entry_fails_the_credential(revoked, suspended, reason):
    outcome = check(credential(both_entries()), two_lists(revoked, suspended))
    assert_outcome(outcome, "failed", reason)
    assert len(outcome.details["entries"]) == 2


def test_failure_outranks_unreachable_and_unreachable_outranks_passed():
    net = two_lists(suspended=[5])
    net.documents[LIST_URL] = FetchFailed("HTTP 503")
    assert_outcome(check(credential(both_entries()), net), "failed", "suspended")
    net = two_lists()
    net.documents[LIST_URL] = FetchFailed("HTTP 503")
    outcome = check(credential(both_entries()), net)
    assert_outcome(outcome, "indeterminate", "status_list_unreachable")
    assert [e["outcome"] for e in outcome.details["entries"]] == ["indeterminate", "passed"]


def test_unsupported_entry_beside_a_clear_one_is_indeterminate():
    status = [entry("5"), {"id": "https://hr.example.com/rl/1", "type": "RevocationList2020Status"}]
    assert_outcome(check(credential(status), two_lists()), "indeterminate", "unsupported_status_type")


def test_same_list_is_fetched_and_verified_once():
    net = with_list(9)
    outcome = check(credential([entry("8"), entry("9"), entry("10")]), net)
    assert_outcome(outcome, "failed", "revoked")
    assert net.fetched == [LIST_URL] and net.verified == [LIST_URL]


# --------------------------------------------------------------------------- statusSize and message

def messages(size: int) -> list[dict]:
    return [{"status": hex(value), "message": f"state {value}"} for value in range(2 ** size)]


def two_bit_list(values: dict[int, int], purpose="message", entries=MIN_ENTRIES) -> Net:
    data = bytearray(entries * 2 // 8)
    for index, value in values.items():
        bit = index * 2
        data[bit // 8] |= value << (6 - bit % 8)
    return Net({LIST_URL: list_credential(encode_bitstring(bytes(data)), purpose=purpose)})


def test_message_entry_with_status_size_2_reports_its_value():
    net = two_bit_list({0: 0b10, 3: 0b01, LAST: 0b11})
    for index, value in ((0, 2), (1, 0), (3, 1), (LAST, 3)):
        outcome = check(credential(entry(str(index), purpose="message", statusSize=2,
                                         statusMessage=messages(2))), net)
        assert_outcome(outcome, "skipped", "no_status")   # a message says nothing about revocation
        assert outcome.details["entries"][0]["value"] == value
        assert outcome.details["entries"][0]["status_message"] == f"state {value}"


def test_revocation_entry_with_status_size_2_counts_any_non_zero_value():
    net = two_bit_list({0: 0b01, 1: 0b10}, purpose="revocation")
    for index, reason in (("0", "revoked"), ("1", "revoked"), ("2", None)):
        outcome = check(credential(entry(index, statusSize=2, statusMessage=messages(2))), net)
        assert outcome.reason == reason


def test_status_size_2_needs_131072_entries_not_bits():
    net = Net({LIST_URL: list_credential(encode_bitstring(bits_with()), purpose="message")})
    outcome = check(credential(entry("0", purpose="message", statusSize=2, statusMessage=messages(2))), net)
    assert_outcome(outcome, "failed", "malformed_status_list")
    assert outcome.details["problem"] == "too_short"


def test_status_size_above_8_is_unsupported():
    outcome = check(credential(entry("0", purpose="message", statusSize=9, statusMessage=[])), with_list())
    assert_outcome(outcome, "indeterminate", "unsupported_status")


def test_unknown_purpose_is_unsupported_without_fetching():
    net = with_list(purpose="custom")
    outcome = check(credential(entry("0", purpose="custom")), net)
    assert_outcome(outcome, "indeterminate", "unsupported_status")
    assert net.fetched == []


# --------------------------------------------------------------------------- unsupported types

@pytest.mark.parametrize("type_", ["RevocationList2020Status", "CredentialStatusList2017", "SomethingNew",
                                   ["VerifiableCredentialStatus", "Custom"]])
def test_unknown_status_type_is_indeterminate(type_):
    net = with_list()
    outcome = check(credential({"id": "https://hr.example.com/status/x", "type": type_}), net)
    assert_outcome(outcome, "indeterminate", "unsupported_status_type")
    assert net.fetched == []


def test_type_given_as_a_list_is_understood():
    assert check(credential(entry("0", type_=["BitstringStatusListEntry"])), with_list()).status == "passed"


# --------------------------------------------------------------------------- 1EdTech Revocation List

def rl_entry(url=RL_URL) -> dict:
    return {"id": url, "type": "1EdTechRevocationList"}


def revocation_list(*items) -> dict:
    return {"id": RL_URL, "issuer": ISSUER, "revokedCredentials": list(items)}


def test_1edtech_listed_credential_is_revoked():
    net = Net({RL_URL: revocation_list({"id": "urn:uuid:other"},
                                       {"id": CREDENTIAL_ID, "revoked": True, "revocationReason": "Issued in error"})})
    outcome = check(credential(rl_entry()), net)
    assert_outcome(outcome, "failed", "revoked")
    assert outcome.message == "The issuer has revoked this badge."
    assert outcome.details["revocation_reason"] == "Issued in error"
    assert net.verified == []   # a plain JSON list, not a credential


def test_1edtech_revoked_may_be_omitted():
    net = Net({RL_URL: revocation_list({"id": CREDENTIAL_ID})})
    assert_outcome(check(credential(rl_entry()), net), "failed", "revoked")


@pytest.mark.parametrize("items", [[], [{"id": "urn:uuid:other"}], [{"id": CREDENTIAL_ID, "revoked": False}]])
def test_1edtech_not_listed_passes(items):
    outcome = check(credential(rl_entry()), Net({RL_URL: revocation_list(*items)}))
    assert_outcome(outcome, "passed", None)
    assert outcome.message == "Not revoked (checked against the issuer's list of revoked badges)."


@pytest.mark.parametrize("document", [
    {"id": RL_URL},
    {"revokedCredentials": {"id": CREDENTIAL_ID}},
    {"revokedCredentials": [CREDENTIAL_ID]},
    {"revokedCredentials": [{"id": 5}]},
    {"revokedCredentials": [{"id": CREDENTIAL_ID, "revoked": "yes"}]},
    ["not", "an", "object"],
])
def test_1edtech_badly_shaped_list_is_malformed(document):
    assert_outcome(check(credential(rl_entry()), Net({RL_URL: document})), "failed", "malformed_status_list")


def test_1edtech_unreachable_is_indeterminate():
    net = Net({RL_URL: FetchFailed("HTTP 500")})
    assert_outcome(check(credential(rl_entry()), net), "indeterminate", "status_list_unreachable")


@pytest.mark.parametrize("url", ["not a url", "ftp://hr.example.com/rl", None])
def test_1edtech_bad_url_is_malformed(url):
    net = Net()
    assert_outcome(check(credential(rl_entry(url)), net), "failed", "malformed_status")
    assert net.fetched == []


def test_1edtech_needs_a_credential_id():
    cred = credential(rl_entry())
    del cred["id"]
    assert_outcome(check(cred, Net({RL_URL: revocation_list()})), "failed", "malformed_status")


def test_1edtech_entry_from_the_ob_example(spec):
    """The credentialStatus of 1EdTech's own OB 3.0 endorsement example parses and is checked."""
    import json
    example = json.loads((spec / "examples" / "examples__endorsement__L3__sample-endorsementcredential.json")
                         .read_text(encoding="utf-8"))
    status = example["credentialStatus"]
    assert status["type"] == "1EdTechRevocationList"
    net = Net({status["id"]: {"revokedCredentials": [{"id": example["id"]}]}})
    assert_outcome(check(example, net), "failed", "revoked")
    assert net.fetched == [status["id"]]
