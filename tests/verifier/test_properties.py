"""Nothing crashes (issue 11 §4), through the library: any JSON value of any type in any field
gives a report, never an exception.

Properties, over the shapes of :mod:`tests.verifier.credential_shapes` (signed credentials
changed anywhere and sometimes signed again, status lists, VC-JWTs, OB 2.0 assertions, baked
images, random JSON, text and bytes, presentations):

* ``verify_credential`` returns a report: its outcome is one of the three, every check that did
  not pass names a reason registered in :mod:`verifier.registry`, and ``report.to_dict()`` is
  JSON that encodes as UTF-8 (no lone surrogate gets into a report);
* a signed credential whose signed value was changed, and not signed again, never verifies;
* ``verify_presentation`` returns a report for any presentation, challenge and domain.

Then one named regression test per crash these properties found.
"""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.verifier import credential_shapes as shapes
from tests.verifier import reading_attacks as attacks
from verifier import verify_credential
from verifier.presentation import verify_presentation
from verifier.registry import REASONS, Status
from verifier.report import CheckResult, VerificationReport

OUTCOMES = {"verified", "not_verified", "indeterminate"}
# long strings and nested junk make big examples; verifications are not timed here
PROPERTY = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def assert_sound(report: VerificationReport) -> dict:
    """A report as the README promises it, whatever the input; returns its dict."""
    assert report.outcome in OUTCOMES
    for check in report.checks:
        assert check.status in set(Status), check
        assert check.status == Status.PASSED or check.reason in REASONS, check
        assert isinstance(check.message, str) and check.message, check
    return assert_serialisable(report.to_dict())


def assert_serialisable(value: dict) -> dict:
    """JSON, as the CLI and the web apps write it (ensure_ascii=False), that encodes as UTF-8."""
    json.dumps(value, ensure_ascii=False).encode("utf-8")
    return value


def verify(shape: shapes.Shape, **options) -> VerificationReport:
    return verify_credential(shape.source, now=shapes.NOW, offline=True, documents=shape.documents,
                             recipient=shapes.EMAIL, **options)


# ---------------------------------------------------------------- properties

@PROPERTY
@given(shapes.shapes, st.booleans())
def test_any_shape_gives_a_sound_report(shape, strict):
    report = verify(shape, strict=strict)
    assert_sound(report)
    if shape.changed_signed_leaf:
        assert report.outcome != "verified", report


@settings(PROPERTY, max_examples=60)
@given(shapes.changed_leaves())
def test_a_changed_signed_value_never_verifies(shape):
    report = verify(shape)
    assert_sound(report)
    assert report.outcome != "verified", report


@settings(PROPERTY, max_examples=40)
@given(shapes.presentations())
def test_any_presentation_gives_a_sound_report(shape):
    if not isinstance(shape.presentation, dict):
        with pytest.raises(TypeError):      # misuse: the caller parses the JSON
            verify_presentation(shape.presentation)
        return
    report = verify_presentation(shape.presentation, challenge=shape.challenge, domain=shape.domain,
                                 now=shapes.NOW, offline=True, documents=shapes.world().documents)
    for check in report.checks:
        assert check.status == Status.PASSED or check.reason in REASONS, check
    for credential in report.credentials:
        assert_sound(credential)
    assert_serialisable(report.to_dict())


def test_the_unchanged_world_verifies():
    """The properties start from inputs that verify (else "never verifies" would prove nothing)."""
    world = shapes.world()
    sources = [*world.credentials.values(), world.jwt, world.ob2]
    for source in sources:
        report = verify_credential(source, now=shapes.NOW, offline=True, documents=world.documents,
                                   recipient=shapes.EMAIL)
        assert report.outcome == "verified", report
    presentation = verify_presentation(world.presentation, challenge=shapes.CHALLENGE, domain=shapes.DOMAIN,
                                       now=shapes.NOW, offline=True, documents=world.documents)
    assert presentation.verified, presentation.to_dict()


def test_only_misuse_raises():
    with pytest.raises(TypeError):
        verify_credential(42)            # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify_presentation("{}")        # type: ignore[arg-type]


# ---------------------------------------------------------------- regressions, named after the input

def _parse(report: VerificationReport) -> CheckResult:
    return report.check("parse")


def test_pasted_text_with_a_raw_lone_surrogate_is_not_json():
    """A str source holding U+D800 itself (not the escape) crashed encoding it for the parser."""
    for text in ('{"name": "\ud800"}', "\ud808\x16", "a.\ud800.c"):
        report = verify_credential(text, now=shapes.NOW, offline=True)
        assert _parse(report).status == "failed"
        assert_sound(report)


def test_a_served_document_with_an_escaped_lone_surrogate_is_refused():
    """An OB 2.0 issuer profile (a document the verifier fetches) named "\\ud871": the name went
    into the report, which then could not be written as UTF-8. Fetched JSON with a lone
    surrogate is now refused by the one strict parser, like duplicate members."""
    world = shapes.world()
    issuer = {**world.documents[shapes.OB2_ISSUER], "name": "Badges \ud871"}
    documents = {**world.documents, shapes.OB2_ISSUER: json.dumps(issuer)}
    report = verify_credential(world.ob2, now=shapes.NOW, offline=True, documents=documents)
    assert report.outcome != "verified"
    assert_sound(report)


def test_a_status_list_with_an_escaped_lone_surrogate_is_refused():
    world = shapes.world()
    status = copy.deepcopy(world.documents[attacks.STATUS_URL])
    status["credentialSubject"]["statusPurpose"] = "revocation\udc00"
    report = verify_credential(world.credentials["ob3-rdfc"], now=shapes.NOW, offline=True,
                               documents={attacks.STATUS_URL: json.dumps(status)})
    assert report.check("status").status in ("failed", "indeterminate")
    assert report.outcome != "verified"
    assert_sound(report)


def test_a_jwt_header_with_an_escaped_lone_surrogate_is_malformed():
    world = shapes.world()
    token = world.sign_jwt(world.jwt_payload, {"alg": "EdDSA", "typ": "JWT", "kid": "did:key:\ud800"})
    report = verify_credential(token, now=shapes.NOW, offline=True, documents=world.documents)
    assert _parse(report).status == "failed"
    assert_sound(report)


def test_a_subject_id_with_non_ascii_text_is_compared_with_the_recipient():
    """``credentialSubject.id = "é"`` crashed hmac.compare_digest (it takes only ASCII text)."""
    world = shapes.world()
    for changed in ({"id": "mailto:zoë@example.com"}, {"identifier": [{"type": "IdentityObject", "hashed": True,
                                                                        "identityHash": "sha256$é",
                                                                        "identityType": "emailAddress"}]}):
        credential = copy.deepcopy(world.credentials["ob3-jcs"])
        credential["credentialSubject"].update(changed)
        for recipient in (shapes.EMAIL, "zoë@example.com", "\udcff@example.com"):
            report = verify_credential(world.sign(credential, "eddsa-jcs-2022"), now=shapes.NOW, offline=True,
                                       documents=world.documents, recipient=recipient)
            named = "id" in changed and recipient.isprintable()    # alice's hashed email is still there
            assert report.check("recipient").status == ("passed" if named else "failed")
            assert_sound(report)


def test_a_presentation_with_a_lone_surrogate_in_an_inline_context():
    """``@context: [V2, {"\ud800": ...}]`` on a signed presentation crashed measuring the inline
    context; a presentation is now read like a credential (structural limits, valid Unicode)."""
    world = shapes.world()
    presentation = {**world.presentation, "@context": [attacks.V2, {"\ud800": "https://example.com/x"}]}
    report = verify_presentation(presentation, now=shapes.NOW, offline=True, documents=world.documents)
    assert [(c.check, c.reason) for c in report.errors] == [("parse", "not_json")]
    assert_serialisable(report.to_dict())


def test_a_credential_with_a_lone_surrogate_in_an_inline_context():
    """The inline context caps measure the context as UTF-8: the lone surrogate must be refused first."""
    world = shapes.world()
    credential = {**world.credentials["ob3-rdfc"], "@context": [attacks.V2, attacks.OB, {"\ud800": "urn:x"}]}
    report = verify_credential(credential, now=shapes.NOW, offline=True, documents=world.documents)
    assert (_parse(report).status, _parse(report).reason) == ("failed", "not_json")
    assert_sound(report)


def test_an_identifier_whose_salt_is_an_object_names_nobody():
    """``identifier[0].salt = {}`` (re-signed) crashed hashing the recipient's email with it."""
    world = shapes.world()
    credential = copy.deepcopy(world.credentials["ob3-jcs"])
    credential["credentialSubject"]["identifier"][0]["salt"] = {"": None}
    credential = world.sign(credential, "eddsa-jcs-2022")
    report = verify_credential(credential, now=shapes.NOW, offline=True, documents=world.documents,
                               recipient=shapes.EMAIL)
    assert report.check("recipient").status != "passed"
    assert_sound(report)


def test_an_ob2_assertion_whose_verification_type_holds_a_list():
    """``verification.type = [["hosted"]]`` crashed making a set of the types (fixed in the
    verifier/ob2 package restructuring)."""
    world = shapes.world()
    assertion = {**world.ob2, "verification": {"type": [["hosted"]]}}
    report = verify_credential(assertion, now=shapes.NOW, offline=True, documents=world.documents)
    assert report.outcome == "not_verified"
    assert_sound(report)
