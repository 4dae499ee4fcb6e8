"""relatedResource digests (VC 2.0 section 5.3): SRI and multibase, bundled contexts and fetched bytes."""
from __future__ import annotations

import base64
import hashlib

import base58
import pytest

from verifier.errors import CredentialError
from verifier.fetcher import FetchError
from verifier.related_resource import (
    DIGEST_MISMATCH,
    DIGEST_UNSUPPORTED,
    EXPLANATIONS,
    MALFORMED,
    MALFORMED_ENTRY,
    MISMATCH,
    RESOURCE_UNAVAILABLE,
    UNAVAILABLE,
    UNSUPPORTED,
    VERIFIED,
    MalformedDigestError,
    check_related_resources,
    decode_digest_multibase,
    decode_sri,
)
from verifier.vocabulary_notes import uses_examples_vocabulary

V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
LOGO = "https://example.com/logo.png"
LOGO_BYTES = b"\x89PNG pretend logo"
# The W3C VC 2.0 test suite's fixtures: valid digests of the 2024-07-20 context, and wrong ones.
SUITE_SRI = "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"
SUITE_MULTIBASE = "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k"
SUITE_WRONG_MULTIBASE = "uM4RgWQc3RUDtjJCSgTJtTfvpZ7SPEg_LNO0ESlovQC0"
SUITE_WRONG_SRI = "sha384-_rCVIV7fSXXTNIvpiq26jRDyj8JG8TDjij-tD0ewLk4JpnXEz6a5AeeY_1qQ0d0P"
# sha256 of the VC 2.0 Recommendation's file (its appendix B.1)
V2_SHA256 = bytes.fromhex("59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734")


def sri(algorithm: str, data: bytes) -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def multihash(algorithm: str, data: bytes) -> bytes:
    code = {"sha256": 0x12, "sha384": 0x20, "sha512": 0x13}[algorithm]
    digest = hashlib.new(algorithm, data).digest()
    return bytes([code, len(digest)]) + digest


def z(raw: bytes) -> str:
    return "z" + base58.b58encode(raw).decode()


def u(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def flip(text: str) -> str:
    """The same digest with one character changed (still decodable)."""
    last = text[-3]
    return text[:-3] + ("B" if last != "B" else "C") + text[-2:]


def check(*entries, fetch=None, **kwargs):
    value = entries[0] if len(entries) == 1 else list(entries)
    return check_related_resources({"relatedResource": value}, fetch, **kwargs)


def fetcher(resources: dict[str, bytes], calls: list | None = None):
    def fetch_bytes(url: str) -> bytes:
        if calls is not None:
            calls.append(url)
        if url not in resources:
            raise FetchError(f"{url}: 404")
        return resources[url]
    return fetch_bytes


# ---------------------------------------------------------------- bundled contexts, no fetch

@pytest.mark.parametrize("digest", [
    {"digestSRI": "sha256-" + base64.b64encode(V2_SHA256).decode()},
    {"digestMultibase": z(bytes([0x12, 32]) + V2_SHA256)},
    {"digestMultibase": u(bytes([0x12, 32]) + V2_SHA256)},
    {"digestMultibase": "f1220" + V2_SHA256.hex()},
    {"digestMultibase": u(V2_SHA256)},      # a bare digest, as the VC 2.0 spec's examples write it
    {"digestSRI": SUITE_SRI},               # the suite's digests of the 2024-07-20 file
    {"digestMultibase": SUITE_MULTIBASE},
], ids=["sri", "multibase-z", "multibase-u", "multibase-f", "multibase-bare", "suite-sri", "suite-multibase"])
def test_a_correct_digest_of_a_bundled_context_verifies_without_fetching(digest):
    def no_fetch(url):
        raise AssertionError("a bundled context must not be fetched")
    [finding] = check({"id": V2, **digest}, fetch=no_fetch)
    assert (finding.status, finding.reason, finding.failed) == (VERIFIED, None, False), finding
    assert finding.detail["source"] == "bundled context"


def test_a_digest_of_a_superseded_publication_is_verified_and_says_so():
    [finding] = check({"id": V2, "digestSRI": SUITE_SRI})
    assert finding.detail["superseded"] == "true" and "2024-07-20" in finding.detail["matched"]
    [current] = check({"id": V2, "digestSRI": "sha256-" + base64.b64encode(V2_SHA256).decode()})
    assert "superseded" not in current.detail


def test_the_bundled_copy_s_own_bytes_verify_too():
    from verifier.contexts import bundled_context_bytes
    [finding] = check({"id": V2, "digestSRI": sri("sha512", bundled_context_bytes(V2))})
    assert finding.status == VERIFIED and finding.detail["matched"] == "bundled copy"


def test_the_examples_context_is_bundled_with_its_published_bytes():
    data = b'{\n  "@context": {\n    "@vocab": "https://www.w3.org/ns/credentials/examples#"\n  }\n}\n'
    [finding] = check({"id": EXAMPLES_V2, "digestSRI": sri("sha384", data)})
    assert finding.status == VERIFIED


@pytest.mark.parametrize("digest", [
    {"digestMultibase": SUITE_WRONG_MULTIBASE},
    {"digestSRI": SUITE_WRONG_SRI},
    {"digestSRI": flip(sri("sha384", b"x"))},
    {"digestMultibase": z(multihash("sha512", b"something else"))},
], ids=["suite-multibase", "suite-sri-base64url", "sri", "multibase"])
def test_a_wrong_digest_of_a_bundled_context_fails(digest):
    [finding] = check({"id": V2, **digest})
    assert (finding.status, finding.reason, finding.failed) == (MISMATCH, DIGEST_MISMATCH, True)


def test_one_wrong_digest_among_right_ones_fails_the_entry():
    right = "sha256-" + base64.b64encode(V2_SHA256).decode()
    wrong_multibase = u(bytes([0x12, 32]) + bytes(32))
    assert check({"id": V2, "digestSRI": right, "digestMultibase": wrong_multibase})[0].status == MISMATCH
    assert check({"id": V2, "digestSRI": f"{right} {SUITE_WRONG_SRI}"})[0].status == MISMATCH
    assert check({"id": V2, "digestMultibase": [u(V2_SHA256), SUITE_WRONG_MULTIBASE]})[0].status == MISMATCH


def test_all_digests_of_an_entry_must_describe_the_same_bytes():
    # each digest matches one published version of the context, but not the same one
    now = "sha256-" + base64.b64encode(V2_SHA256).decode()
    [finding] = check({"id": V2, "digestSRI": now, "digestMultibase": SUITE_MULTIBASE})
    assert finding.status == MISMATCH


# ---------------------------------------------------------------- fetched resources

def test_a_fetched_resource_with_correct_digests_verifies():
    calls: list[str] = []
    findings = check({"id": LOGO, "digestSRI": sri("sha256", LOGO_BYTES), "mediaType": "image/png"},
                     {"id": "https://example.com/doc", "digestMultibase": z(multihash("sha384", b"doc"))},
                     fetch=fetcher({LOGO: LOGO_BYTES, "https://example.com/doc": b"doc"}, calls))
    assert [f.status for f in findings] == [VERIFIED, VERIFIED]
    assert findings[0].detail["source"] == "fetched"
    assert calls == [LOGO, "https://example.com/doc"]


@pytest.mark.parametrize("digest", [
    {"digestSRI": sri("sha512", b"the old logo")},
    {"digestMultibase": u(multihash("sha256", b"the old logo"))},
    {"digestMultibase": u(hashlib.sha256(b"the old logo").digest())},
], ids=["sri", "multibase", "bare"])
def test_a_fetched_resource_that_changed_fails(digest):
    [finding] = check({"id": LOGO, **digest}, fetch=fetcher({LOGO: LOGO_BYTES}))
    assert (finding.status, finding.reason, finding.failed) == (MISMATCH, DIGEST_MISMATCH, True)


def test_a_resource_that_cannot_be_obtained_is_noted_not_failed():
    entry = {"id": LOGO, "digestSRI": sri("sha256", LOGO_BYTES)}
    for findings in (check(entry), check(entry, fetch=fetcher({}))):
        [finding] = findings
        assert (finding.status, finding.reason, finding.failed) == (UNAVAILABLE, RESOURCE_UNAVAILABLE, False)
    [refused] = check(entry, fetch=fetcher({}))
    assert "404" in refused.message

    def broken(url):
        raise OSError("connection reset")
    assert check(entry, fetch=broken)[0].status == UNAVAILABLE


def test_fetching_stops_at_the_limit():
    entries = [{"id": f"https://example.com/{n}", "digestSRI": sri("sha256", b"%d" % n)} for n in range(4)]
    calls: list[str] = []
    findings = check(*entries, fetch=fetcher({f"https://example.com/{n}": b"%d" % n for n in range(4)}, calls),
                     max_fetches=2)
    assert [f.status for f in findings] == [VERIFIED, VERIFIED, UNAVAILABLE, UNAVAILABLE]
    assert len(calls) == 2


def test_a_bug_in_the_fetch_function_is_not_hidden():
    def buggy(url):
        raise KeyError(url)
    with pytest.raises(KeyError):
        check({"id": LOGO, "digestSRI": sri("sha256", b"x")}, fetch=buggy)


def test_an_unsupported_hash_algorithm_is_noted_not_failed():
    sha3 = bytes([0x16, 32]) + hashlib.sha3_256(LOGO_BYTES).digest()
    [finding] = check({"id": LOGO, "digestMultibase": z(sha3)}, fetch=fetcher({LOGO: LOGO_BYTES}))
    assert (finding.status, finding.reason, finding.failed) == (UNSUPPORTED, DIGEST_UNSUPPORTED, False)
    # with a supported digest beside it, that one decides
    [both] = check({"id": LOGO, "digestMultibase": [z(sha3), z(multihash("sha256", b"other"))]},
                   fetch=fetcher({LOGO: LOGO_BYTES}))
    assert both.status == MISMATCH


# ---------------------------------------------------------------- malformed entries

@pytest.mark.parametrize("value", [
    [LOGO],                                                      # a string, not an object
    [{"digestSRI": sri("sha256", b"x")}],                        # no id
    [{"id": "logo.png", "digestSRI": sri("sha256", b"x")}],      # not a URL
    [{"id": LOGO}],                                              # no digest
    [{"id": LOGO, "digestSRI": "md5-abc"}],
    [{"id": LOGO, "digestSRI": "sha256-not*base64"}],
    [{"id": LOGO, "digestSRI": "sha256-" + base64.b64encode(b"short").decode()}],
    [{"id": LOGO, "digestSRI": 42}],
    [{"id": LOGO, "digestMultibase": "uEiBZlVztZpfWHgPysrVb"}],   # a truncated multihash
    [{"id": LOGO, "digestMultibase": "xabc"}],                     # unknown multibase prefix
    [{"id": LOGO, "digestMultibase": "z0OIl"}],                    # not base58
    [{"id": LOGO, "digestMultibase": []}],
    [{"id": LOGO, "digestSRI": sri("sha256", b"x"), "mediaType": 5}],
    [],
], ids=["string", "no-id", "relative-id", "no-digest", "md5", "bad-base64", "short", "not-a-string",
        "truncated-multihash", "unknown-base", "bad-base58", "empty-multibase-list", "bad-media-type", "empty"])
def test_malformed_entries_fail(value):
    findings = check_related_resources({"relatedResource": value}, fetcher({LOGO: b"x"}))
    assert [(f.status, f.reason, f.failed) for f in findings] == [(MALFORMED, MALFORMED_ENTRY, True)]


def test_a_repeated_id_fails_the_repetition():
    first = {"id": LOGO, "digestSRI": sri("sha256", LOGO_BYTES)}
    findings = check(first, {"id": LOGO, "digestMultibase": z(multihash("sha256", LOGO_BYTES))},
                     fetch=fetcher({LOGO: LOGO_BYTES}))
    assert [f.status for f in findings] == [VERIFIED, MALFORMED]
    assert "more than once" in findings[1].message


def test_no_related_resource_gives_no_findings():
    assert check_related_resources({"type": ["VerifiableCredential"]}) == []
    assert check_related_resources("not a credential") == []


def test_decoders_raise_a_credential_error_with_the_reason_code():
    for bad in (lambda: decode_sri("sha1-abc"), lambda: decode_digest_multibase("zz")):
        with pytest.raises(MalformedDigestError) as raised:
            bad()
        assert isinstance(raised.value, CredentialError) and raised.value.code == MALFORMED_ENTRY


def test_every_reason_code_is_explained():
    assert set(EXPLANATIONS) == {DIGEST_MISMATCH, MALFORMED_ENTRY, RESOURCE_UNAVAILABLE, DIGEST_UNSUPPORTED}


# ---------------------------------------------------------------- the examples vocabulary note

@pytest.mark.parametrize("document, expected", [
    ({"@context": [V2, EXAMPLES_V2]}, True),
    ({"@context": V2}, False),
    ({"@context": [V2, {"@vocab": "https://www.w3.org/ns/credentials/examples#"}]}, True),
    ({"@context": [V2, {"Term": {"@id": "https://example.com/t", "@context": EXAMPLES_V2}}]}, True),
    ({"@context": ["https://www.w3.org/2018/credentials/v1", "https://www.w3.org/2018/credentials/examples/v1"]}, True),
    ({"@context": [V2], "verifiableCredential": [{"@context": [V2, EXAMPLES_V2]}]}, True),
    ({"@context": [V2], "credentialSubject": {"note": EXAMPLES_V2}}, False),  # a value, not a context
    ("text", False),
    (None, False),
])
def test_uses_examples_vocabulary(document, expected):
    assert uses_examples_vocabulary(document) is expected
