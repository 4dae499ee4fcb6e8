"""The bundled contexts: provenance recorded, digests checked, JSON-equal to the published ones."""
from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from tests.support import read_json
from verifier import contexts as bundled
from verifier.contexts import CONTEXTS_DIR, ContextIntegrityError, context_index, load_bundled_context
from verifier.document_loader import DocumentLoader
from verifier.errors import UnknownContextError

REQUIRED = [
    "https://www.w3.org/2018/credentials/v1",
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    "https://w3id.org/security/data-integrity/v1",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/multikey/v1",
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/suites/ed25519-2020/v1",
    "https://w3id.org/security/suites/ed25519-2018/v1",
    "https://w3id.org/security/suites/jws-2020/v1",
    "https://w3id.org/vc/status-list/2021/v1",
    "https://www.w3.org/ns/credentials/status/v1",
    "https://w3id.org/security/v1",
    "https://w3id.org/security/v2",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
]


def test_every_required_context_is_bundled_with_its_provenance():
    index = context_index()
    for url in REQUIRED:
        entry = index[url]
        assert (CONTEXTS_DIR / entry["file"]).is_file()
        registry, _, package = entry["source"].partition(":")
        assert registry in ("npm", "pypi") and "@" in package[1:], entry["source"]
        data = (CONTEXTS_DIR / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]


@pytest.mark.parametrize("url", sorted(context_index()))
def test_bundled_context_is_json_equal_to_the_published_one(url, spec):
    published = read_json(spec / "contexts" / "index.json")["contexts"]
    if url not in published:
        pytest.skip(f"{url} has no counterpart in ../shared/spec/contexts to compare with")
    theirs = read_json(spec / "contexts" / published[url]["file"])
    assert load_bundled_context(url) == theirs


def test_ob_contexts_carry_awarded_date():
    for version in ("3.0.1", "3.0.3"):
        ctx = load_bundled_context(f"https://purl.imsglobal.org/spec/ob/v3p0/context-{version}.json")
        assert "awardedDate" in json.dumps(ctx)


def test_a_tampered_context_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "contexts"
    shutil.copytree(CONTEXTS_DIR, copy)
    target = copy / context_index()["https://www.w3.org/ns/credentials/v2"]["file"]
    target.write_text(target.read_text().replace('"VerifiableCredential"', '"VerifiableCredentiaI"'))
    monkeypatch.setattr(bundled, "CONTEXTS_DIR", copy)
    load_bundled_context.cache_clear()
    try:
        with pytest.raises(ContextIntegrityError):
            load_bundled_context("https://www.w3.org/ns/credentials/v2")
    finally:
        load_bundled_context.cache_clear()


def test_loader_refuses_unknown_urls_by_name_and_serves_static_documents():
    loader = DocumentLoader()
    with pytest.raises(UnknownContextError, match="https://example.com/evil-context"):
        loader("https://example.com/evil-context", {})
    remote = loader("https://www.w3.org/ns/credentials/v2", {})
    assert remote["tag"] == "static"
    assert remote["document"] == load_bundled_context("https://www.w3.org/ns/credentials/v2")
    remote["document"]["@context"]["VerifiableCredential"] = "changed"  # a private copy
    assert loader("https://www.w3.org/ns/credentials/v2", {})["document"] != remote["document"]


def test_loader_serves_explicitly_given_documents_only_to_its_own_engine():
    doc = {"@context": {"x": "https://example.com/x"}}
    assert DocumentLoader({"https://example.com/ctx": doc})("https://example.com/ctx", {})["document"] == doc
    with pytest.raises(UnknownContextError):
        DocumentLoader()("https://example.com/ctx", {})


EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def test_the_examples_context_is_written_from_the_w3c_publication():
    # No registry package carries it (@digitalbazaar/credentials-examples-context 1.0.0 has only v1).
    entry = context_index()[EXAMPLES_V2]
    assert entry["source"].startswith("w3c-publication:")
    assert load_bundled_context(EXAMPLES_V2) == {"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}}
    assert DocumentLoader().knows(EXAMPLES_V2)


def test_the_examples_context_is_json_equal_and_byte_equal_to_the_published_one(spec):
    published = read_json(spec / "contexts" / "index.json")["contexts"][EXAMPLES_V2]
    path = spec / "contexts" / published["file"]
    assert load_bundled_context(EXAMPLES_V2) == read_json(path)
    assert bundled.bundled_context_bytes(EXAMPLES_V2) == path.read_bytes()


def test_recorded_published_digests_are_those_of_the_published_file(spec):
    # ../shared/spec/contexts/credentials-v2.jsonld is a byte-exact copy of the W3C file whose sha256
    # the VC 2.0 Recommendation gives (appendix B.1); the bundled npm copy is reformatted.
    published = read_json(spec / "contexts" / "index.json")["contexts"]["https://www.w3.org/ns/credentials/v2"]
    data = (spec / "contexts" / published["file"]).read_bytes()
    [current] = [v for v in bundled.published_digests("https://www.w3.org/ns/credentials/v2")
                 if not v.get("superseded")]
    for algorithm in ("sha256", "sha384", "sha512"):
        assert current[algorithm] == hashlib.new(algorithm, data).hexdigest()
    assert bundled.published_digests(EXAMPLES_V2) == ()
