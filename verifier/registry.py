"""The registry of check ids, statuses and reason codes: one place for every code the verifier gives.

Every reason code carries the status it gives its check and a plain-language sentence for a
recruiter; the specific technical message of each occurrence goes in the check's details.
``tests/verifier/test_registry.py`` scans the verifier's sources and fails when a raised or
reported code is missing here or has no message. A code's status is what "could not check"
versus "bad" means for it: ``INDETERMINATE`` reasons are things the verifier could not find
out right now (a host down, offline mode, an expired status list); ``FAILED`` ones are
something wrong with the credential; ``WARNING`` ones are deviations that do not touch
authenticity (they fail only under ``strict``); ``SKIPPED`` ones say why a check did not apply.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    INDETERMINATE = "indeterminate"
    SKIPPED = "skipped"
    WARNING = "warning"


class CheckId(StrEnum):
    """The checks, in the order a report lists them."""

    PARSE = "parse"
    FETCH = "fetch"
    CONTEXTS = "contexts"
    CONFORMANCE = "conformance"
    KEY = "key"
    ISSUER_BINDING = "issuer_binding"
    PROOF = "proof"
    VALIDITY = "validity"
    STATUS = "status"
    RECIPIENT = "recipient"
    RELATED_RESOURCES = "related_resources"
    ENDORSEMENTS = "endorsements"
    HOLDER_BINDING = "holder_binding"   # presentations: the holder signed


CHECK_ORDER: tuple[CheckId, ...] = tuple(CheckId)
CHECK_TITLES: Mapping[str, str] = MappingProxyType({  # keyed by CheckId (a str)
    CheckId.PARSE: "Readable credential",
    CheckId.FETCH: "Retrieved",
    CheckId.CONTEXTS: "Known vocabularies",
    CheckId.CONFORMANCE: "Open Badges data model",
    CheckId.KEY: "Issuer's key found",
    CheckId.ISSUER_BINDING: "Key belongs to the issuer",
    CheckId.PROOF: "Signature",
    CheckId.VALIDITY: "Dates",
    CheckId.STATUS: "Not revoked",
    CheckId.RECIPIENT: "Recipient",
    CheckId.RELATED_RESOURCES: "Linked files unchanged",
    CheckId.ENDORSEMENTS: "Endorsements",
    CheckId.HOLDER_BINDING: "Presented by its holder",
})
# The checks that must pass for a credential to be verified (besides nothing failing).
REQUIRED_PASSES: tuple[CheckId, ...] = (CheckId.KEY, CheckId.ISSUER_BINDING, CheckId.PROOF)


@dataclass(frozen=True)
class ReasonInfo:
    status: Status
    message: str


_F, _I, _S, _W = Status.FAILED, Status.INDETERMINATE, Status.SKIPPED, Status.WARNING

_REASONS: dict[str, tuple[Status, str]] = {
    # ---- reading the input
    "not_json": (_F, "This is not a credential: it is neither JSON, a signed token (JWT) nor a badge image."),
    "not_a_credential": (_F, "This JSON is not a verifiable credential."),
    "invalid_input": (_F, "The input is not usable as a credential."),
    "invalid_credential": (_F, "The credential is malformed."),
    "too_large": (_F, "The input is larger than a credential can be."),
    "too_complex": (_F, "The credential is nested too deeply or holds too many values to be checked safely."),
    "verifier_busy": (_I, "The verifier is busy with other large credentials right now; try again shortly."),
    "too_slow": (_F, "The credential takes too long to process to be checked safely."),
    "missing_base_context": (_F, "The credential does not start with the W3C Verifiable Credentials vocabulary."),
    "mixed_base_contexts": (_F, "The credential mixes two versions of the W3C Verifiable Credentials vocabulary."),
    "unreachable": (_I, "The credential could not be retrieved from its URL."),
    "network_forbidden": (_I, "Checking this needs the network, which is turned off (offline mode)."),
    # ---- baked images
    "bad_image": (_F, "The image is damaged or not a badge image."),
    "bad_png": (_F, "The PNG image is damaged."),
    "bad_svg": (_F, "The SVG image is damaged or unsafe."),
    "unsafe_svg": (_F, "The SVG image contains unsafe content (scripts or external references)."),
    "not_an_image": (_F, "The file is not a PNG or SVG image."),
    "no_credential_in_image": (_F, "The image carries no credential."),
    "ambiguous_baking": (_F, "The image carries more than one credential, so it is unclear which one to trust."),
    "compressed_credential_chunk": (_F, "The credential inside the image is compressed, which the Open Badges "
                                        "baking format does not allow."),
    # ---- vocabularies and one reading
    "unknown_context": (_F, "The credential uses a vocabulary (JSON-LD @context) this verifier does not know; it is "
                            "never downloaded, so the credential cannot be checked."),
    "context_integrity": (_F, "A vocabulary bundled with this verifier is damaged; reinstall microcred."),
    "dropped_term": (_F, "The credential contains data that no vocabulary defines; it would not be covered by the "
                         "signature, so the credential is rejected."),
    "jsonld_error": (_F, "The credential's linked-data structure is invalid."),
    "canonicalization_limit": (_F, "The credential's data is too complex to check safely."),
    "non_term_key": (_F, "A property is spelled as a web address instead of by its name, which would hide it from "
                         "the checks while the signature still matches; the credential is rejected."),
    "keyword_not_allowed": (_F, "The credential uses a JSON-LD feature (such as @nest, @included or @reverse) that "
                                "can hide signed data from the checks; the credential is rejected."),
    "alias_of_checked_property": (_F, "A property is given under another name for a property the checks read; the "
                                      "credential is rejected."),
    "non_term_type": (_F, "A type is spelled as a web address instead of by its name; the credential is rejected."),
    "inline_context_alias": (_F, "The credential's own vocabulary renames data the checks read; the credential is "
                                 "rejected."),
    "inline_context_not_allowed": (_F, "The credential's own vocabulary uses a feature that could change what its "
                                       "data means; the credential is rejected."),
    "node_described_twice": (_F, "Part of the credential is described in two places, so some signed data would not "
                                 "be checked; the credential is rejected."),
    "blocked_by_contexts": (_S, "Not checked: the credential's vocabulary or spelling cannot be trusted."),
    # ---- conformance (warnings unless strict)
    "schema_violation": (_W, "The credential does not follow the Open Badges 3.0 data model in every detail."),
    "no_subject_identifier": (_W, "The credential does not say who earned it (no subject id or identifier)."),
    "data_model_violation": (_W, "The credential does not follow the Verifiable Credentials data model in every "
                                 "detail."),
    "examples_vocabulary": (_W, "The credential uses the W3C examples vocabulary, which is meant for "
                                "specifications and tests, not for real credentials."),
    "not_open_badge": (_S, "Not an Open Badge, so the Open Badges schema does not apply."),
    # ---- keys and issuer binding
    "no_proof": (_F, "The credential is not signed."),
    "malformed_proof": (_F, "The signature block is malformed."),
    "key_unresolvable": (_I, "The issuer's public key could not be retrieved right now."),
    "key_not_found": (_F, "The key named in the signature is not published by its owner."),
    "unsupported_key": (_F, "The issuer's key is of a kind this verifier does not support."),
    "invalid_key": (_F, "The issuer's key is malformed."),
    "weak_key": (_F, "The issuer's key is too weak to be trusted."),
    "private_key_material": (_F, "A published key document exposes a private key; it cannot be trusted."),
    "invalid_did": (_F, "The issuer's identifier (DID) is malformed."),
    "unsupported_did_method": (_F, "The issuer's identifier uses a kind of DID this verifier does not support."),
    "invalid_verification_method": (_F, "The signature names its key in a malformed way."),
    "did_document_mismatch": (_F, "The issuer's published key document is inconsistent."),
    "no_issuer": (_F, "The credential does not name its issuer."),
    "key_not_controlled_by_issuer": (_F, "The signature is valid, but it was made with a key the issuer does not "
                                         "control: someone else signed this credential."),
    "method_not_in_assertion_method": (_F, "The key belongs to the issuer but is not authorised to issue "
                                           "credentials."),
    "key_not_listed_by_issuer": (_F, "The key is published on the issuer's website, but the issuer's own profile "
                                     "does not list it for issuing credentials."),
    "key_from_another_origin": (_F, "The key is published on a different website than the issuer's."),
    "jwk_not_issuers": (_F, "The token carries its own key, and that key is not the issuer's."),
    "key_type_mismatch": (_F, "The signature algorithm does not fit the issuer's key."),
    "blocked_by_key": (_S, "Not checked: the signing key could not be found."),
    # ---- proofs and tokens
    "unsupported_cryptosuite": (_F, "The credential is signed with a method this verifier does not support."),
    "signature_mismatch": (_F, "The signature does not match: the credential was changed after it was signed, or "
                               "it was signed with a different key."),
    "wrong_proof_purpose": (_F, "The signature was not made for issuing credentials."),
    "previous_proof_missing": (_F, "A signature refers to another signature that is not there."),
    "previous_proof_unverified": (_F, "A signature builds on another signature that does not verify."),
    "proof_context_mismatch": (_F, "The signature was made under different vocabularies than the credential uses."),
    "proof_expired": (_F, "The signature itself has expired."),
    "proof_created_in_future": (_F, "The signature claims to be made in the future."),
    "alg_none": (_F, "The token is not signed (algorithm 'none')."),
    "alg_not_allowed": (_F, "The token uses a signature algorithm that is not allowed."),
    "invalid_jws": (_F, "The signed token is malformed."),
    "malformed_jws": (_F, "The signed token is malformed."),
    "not_a_jws": (_F, "This is an encrypted token, not a signed one."),
    "unsupported_header": (_F, "The token asks for processing this verifier does not support."),
    "private_key_in_header": (_F, "The token exposes a private key; it cannot be trusted."),
    "jwt_claims_mismatch": (_F, "The token's claims disagree with the credential inside it."),
    "jwt_ambiguous_credential": (_F, "The signed token carries two credentials (one in its body and one in its "
                                     "'vc' claim), so it is unclear which one was checked; it is rejected."),
    # ---- dates
    "not_yet_valid": (_F, "The credential is not valid yet."),
    "expired": (_F, "The credential has expired."),
    "invalid_date": (_F, "The credential's dates are malformed."),
    # ---- status
    "no_status": (_S, "The issuer publishes no revocation information for this credential."),
    "malformed_status": (_F, "The credential's revocation information is malformed, so its status cannot be "
                             "trusted."),
    "status_list_unreachable": (_I, "Revocation status could not be checked: the issuer's status list could not be "
                                    "retrieved."),
    "status_list_untrusted": (_F, "The issuer's status list is not trustworthy (its signature, issuer or own status "
                                  "does not check out)."),
    "status_list_mismatch": (_F, "The credential points to a status list that is not the list it claims to be."),
    "status_list_from_another_issuer": (_F, "The status list was published by someone other than the issuer."),
    "status_list_expired": (_I, "Revocation status could not be checked: the issuer's status list has expired and "
                                "has not been renewed."),
    "status_list_not_yet_valid": (_I, "Revocation status could not be checked: the issuer's status list is not "
                                      "valid yet."),
    "status_purpose_mismatch": (_F, "The credential points to a status list kept for a different purpose."),
    "malformed_status_list": (_F, "The issuer's status list is damaged or malformed."),
    "status_index_out_of_range": (_F, "The credential points to a position outside the issuer's status list."),
    "revoked": (_F, "The issuer has revoked this credential."),
    "suspended": (_F, "The issuer has suspended this credential."),
    "unsupported_status_type": (_I, "Revocation status could not be checked: the credential uses a kind of status "
                                    "check this verifier does not support."),
    "unsupported_status": (_I, "Revocation status could not be checked: the credential's status entry uses an "
                               "option this verifier does not support."),
    "depth_limit": (_S, "Not followed further: checks of nested credentials stop one level deep."),
    # ---- recipient
    "no_recipient_given": (_S, "No recipient given to compare with."),
    "recipient_mismatch": (_F, "The credential was not issued to the person you named."),
    "no_recipient_to_compare": (_I, "The credential holds no identifier to compare the recipient with."),
    # ---- related resources
    "no_related_resources": (_S, "The credential links no files with digests."),
    "related_resource_digest_mismatch": (_F, "A file the credential links to has changed since it was signed "
                                             "(its digest does not match)."),
    "related_resource_unavailable": (_S, "A file the credential links to could not be obtained, so its digest was "
                                         "not compared."),
    "related_resource_malformed": (_F, "The credential's list of linked files and their digests is malformed."),
    "related_resource_digest_unsupported": (_S, "A linked file's digest uses an algorithm this verifier does not "
                                                "support, so it was not compared."),
    # ---- endorsements
    "no_endorsements": (_S, "No endorsements attached."),
    "endorsement_invalid": (_W, "An endorsement attached to the credential does not verify; the credential itself "
                                "is not affected."),
    "too_many_endorsements": (_W, "More endorsements are attached than this verifier checks."),
    # ---- presentations
    "not_a_presentation": (_F, "This is not a verifiable presentation."),
    "too_many_credentials": (_F, "The presentation carries more credentials than this verifier checks at once."),
    "enveloped_credential_unsupported": (_F, "The presentation carries a credential in a form this verifier does "
                                             "not read here (an enveloped credential)."),
    "presentation_not_signed": (_F, "The presentation is not signed, but a signed one was asked for."),
    "challenge_mismatch": (_F, "The presentation was not signed for this request (its challenge differs)."),
    "domain_mismatch": (_F, "The presentation was signed for another website (its domain differs)."),
    "holder_mismatch": (_F, "The presentation was signed by someone other than its holder."),
    "method_not_in_authentication": (_F, "The holder's key is not one the holder uses to authenticate."),
    # ---- Open Badges 2.0
    "hosted_verification": (_S, "An Open Badges 2.0 hosted badge: trust comes from the issuer's own website, not "
                                "from a signature."),
    "not_ob2": (_F, "This is not an Open Badges 2.0 assertion."),
    "malformed_assertion": (_F, "The Open Badges 2.0 assertion is malformed."),
    "malformed_badge": (_F, "The Open Badges 2.0 badge definition is malformed."),
    "malformed_issuer": (_F, "The Open Badges 2.0 issuer profile is malformed."),
    "malformed_recipient": (_F, "The badge's recipient is malformed."),
    "assertion_unreachable": (_I, "The badge could not be retrieved from the issuer's website."),
    "badge_unreachable": (_I, "The badge definition could not be retrieved from the issuer's website."),
    "issuer_unreachable": (_I, "The issuer's profile could not be retrieved from its website."),
    "key_unreachable": (_I, "The issuer's public key could not be retrieved right now."),
    "assertion_id_mismatch": (_F, "The badge is not hosted at the address it claims as its own."),
    "assertion_mismatch": (_F, "The badge hosted by the issuer differs from the one given."),
    "assertion_from_another_origin": (_F, "The badge is hosted on a different website than its issuer's."),
    "badge_id_mismatch": (_F, "The badge definition does not have the address the badge points to."),
    "issuer_id_mismatch": (_F, "The issuer profile does not have the address the badge points to."),
    "no_issuer_key": (_F, "The issuer publishes no key that could have signed this badge."),
    "no_trusted_key": (_F, "The badge was signed with a key the issuer does not list."),
    "signature_missing": (_F, "The badge says it is signed but carries no signature."),
    "unsupported_verification_type": (_F, "The badge uses a verification method this verifier does not support."),
    "verification_type_mismatch": (_F, "The badge's verification method does not match how it was given."),
    "status_list_invalid": (_F, "The issuer's revocation list is malformed."),
    "not_https_url": (_F, "A link in the badge is not a secure https address."),
    "not_reached": (_S, "Not checked: an earlier check stopped the verification."),
    # ---- the network (details of "could not retrieve")
    "fetch_failed": (_I, "A document could not be retrieved."),
    "timeout": (_I, "A website took too long to answer."),
    "http_status": (_I, "A website answered with an error."),
    "too_many_redirects": (_I, "A website redirected too many times."),
    "fetch_budget_exceeded": (_I, "The verification needed more downloads than it is allowed."),
    "host_fetch_budget_exceeded": (_I, "The verification needed more downloads from one website than it is "
                                       "allowed."),
    "host_rate_limited": (_I, "Too many checks are reaching the same website right now; try again shortly."),
    "host_busy": (_I, "The website is already being asked by many checks at once; try again shortly."),
    "private_address": (_F, "A link points into a private network, which this verifier never contacts."),
    "scheme_not_allowed": (_F, "A link does not use https."),
    "port_not_allowed": (_F, "A link uses a port this verifier does not contact."),
    "userinfo_in_url": (_F, "A link carries a user name or password, which this verifier never sends."),
    "invalid_url": (_F, "A link is malformed."),
    "empty": (_I, "A website answered with nothing."),
    # ---- encodings (details of malformed data)
    "not_a_string": (_F, "A value that must be text is not."),
    "not_base64url": (_F, "A value is not valid base64url."),
    "not_gzip": (_F, "A compressed value is not valid gzip."),
    "not_multibase": (_F, "A value is not valid multibase."),
}

REASONS: Mapping[str, ReasonInfo] = MappingProxyType({code: ReasonInfo(status, message)
                                                      for code, (status, message) in _REASONS.items()})
Reason = StrEnum("Reason", {code.upper(): code for code in _REASONS})  # type: ignore[misc]
Reason.__doc__ = "Every reason code, as an enum (``Reason.EXPIRED == 'expired'``)."


def reason_info(code: str | None) -> ReasonInfo | None:
    """The registered status and message of ``code``, or None."""
    return REASONS.get(code) if code else None


def explain(code: str | None, fallback: str = "") -> str:
    """The plain-language sentence for ``code`` (``fallback`` if it is not registered)."""
    found = reason_info(code)
    return found.message if found else fallback


def status_of(code: str | None, default: Status = Status.FAILED) -> Status:
    """The status ``code`` gives its check (``default`` if it is not registered)."""
    found = reason_info(code)
    return found.status if found else default
