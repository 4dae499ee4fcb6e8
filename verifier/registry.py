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
    CheckId.PARSE: "Readable badge",
    CheckId.FETCH: "Fetched from its address",
    CheckId.CONTEXTS: "Nothing hidden from the checks",
    CheckId.CONFORMANCE: "Follows the Open Badges standard",
    CheckId.KEY: "Issuer's key found",
    CheckId.ISSUER_BINDING: "Key belongs to the issuer",
    CheckId.PROOF: "Signature matches",
    CheckId.VALIDITY: "Within its dates",
    CheckId.STATUS: "Not revoked or suspended",
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
    "not_json": (_F, "This is not a badge: it is not a badge file, a badge image or the text of a signed badge."),
    "not_a_credential": (_F, "This file is not a badge."),
    "invalid_input": (_F, "What was given cannot be read as a badge."),
    "invalid_credential": (_F, "The badge is damaged: parts of it are missing or malformed."),
    "too_large": (_F, "This is larger than any badge can be."),
    "too_complex": (_F, "The badge is built in too many layers or holds too many values to be checked safely."),
    "verifier_busy": (_I, "The checker is busy with other large badges right now; try again shortly."),
    "too_slow": (_F, "The badge takes too long to process to be checked safely."),
    "missing_base_context": (_F, "This is not a badge, or not one made to the Open Badges standard: it does not say "
                                 "which standard it follows."),
    "mixed_base_contexts": (_F, "The badge mixes two versions of the standard it follows, so it cannot be read "
                                "safely."),
    "unreachable": (_I, "The badge could not be fetched from its address."),
    "network_forbidden": (_I, "Checking this needs the internet, which is turned off (offline mode)."),
    # ---- baked images
    "bad_image": (_F, "The image is damaged or is not a badge image."),
    "bad_png": (_F, "The PNG image is damaged."),
    "bad_svg": (_F, "The SVG image is damaged or unsafe."),
    "unsafe_svg": (_F, "The SVG image contains unsafe content (scripts or links to other files), so it is refused."),
    "not_an_image": (_F, "The file is not a PNG or SVG image."),
    "no_credential_in_image": (_F, "This image is not a badge: it carries no badge information."),
    "ambiguous_baking": (_F, "The image carries more than one badge, so it is unclear which one to trust."),
    "compressed_credential_chunk": (_F, "The badge inside the image is stored compressed, which the Open Badges "
                                        "standard does not allow."),
    # ---- vocabularies and one reading
    "unknown_context": (_F, "The badge uses terms from a source this checker does not know (it never downloads "
                            "them), so it cannot be checked."),
    "context_integrity": (_F, "A file that comes with this checker is damaged; reinstall microcred."),
    "dropped_term": (_F, "The badge contains information that the standard does not define; the signature would "
                         "not cover it, so the badge is rejected."),
    "jsonld_error": (_F, "The badge's structure is invalid."),
    "canonicalization_limit": (_F, "The badge's information is too complex to check safely."),
    "non_term_key": (_F, "A field is spelled as a web address instead of by its name, which would hide it from the "
                         "checks while the signature still matches; the badge is rejected."),
    "keyword_not_allowed": (_F, "The badge uses a construction that can hide signed information from the checks; "
                                "the badge is rejected."),
    "alias_of_checked_property": (_F, "A field the checks read is given under another name; the badge is rejected."),
    "non_term_type": (_F, "A kind is spelled as a web address instead of by its name; the badge is rejected."),
    "inline_context_alias": (_F, "The badge renames fields the checks read; the badge is rejected."),
    "inline_context_not_allowed": (_F, "The badge redefines what its own fields mean; the badge is rejected."),
    "node_described_twice": (_F, "Part of the badge is described in two places, so some signed information would "
                                 "not be checked; the badge is rejected."),
    "blocked_by_contexts": (_S, "Not checked: the badge's wording cannot be trusted."),
    # ---- conformance (warnings unless strict)
    "schema_violation": (_W, "The badge does not follow the Open Badges 3.0 standard in every detail."),
    "no_subject_identifier": (_W, "The badge does not say who earned it."),
    "data_model_violation": (_W, "The badge does not follow the standard that Open Badges builds on in every "
                                 "detail."),
    "examples_vocabulary": (_W, "The badge uses terms meant for examples and tests, not for real badges."),
    "not_open_badge": (_S, "Not an Open Badge, so the Open Badges rules do not apply."),
    # ---- keys and issuer binding
    "no_proof": (_F, "The badge is not signed."),
    "malformed_proof": (_F, "The badge's signature is malformed."),
    "key_unresolvable": (_I, "The issuer's public key could not be fetched right now."),
    "key_not_found": (_F, "The key named in the signature is not published by its owner."),
    "unsupported_key": (_F, "The issuer's key is of a kind this verifier does not support."),
    "invalid_key": (_F, "The issuer's key is malformed."),
    "weak_key": (_F, "The issuer's key is too weak to be trusted."),
    "private_key_material": (_F, "A published key reveals its secret part; it cannot be trusted."),
    "invalid_did": (_F, "The issuer's identifier is malformed."),
    "unsupported_did_method": (_F, "The issuer's identifier is of a kind this checker does not support."),
    "invalid_verification_method": (_F, "The signature names its key in a malformed way."),
    "did_document_mismatch": (_F, "The issuer's published key list is inconsistent."),
    "no_issuer": (_F, "The badge does not name its issuer."),
    "key_not_controlled_by_issuer": (_F, "The signature is valid, but it was made with a key the issuer does not "
                                         "control: someone else signed this badge."),
    "method_not_in_assertion_method": (_F, "The key belongs to the issuer but is not allowed to issue badges."),
    "key_not_listed_by_issuer": (_F, "The key is published on the issuer's website, but the issuer's own profile "
                                     "does not list it for issuing badges."),
    "key_from_another_origin": (_F, "The key is published on a different website than the issuer's."),
    "jwk_not_issuers": (_F, "The badge carries its own key, and that key is not the issuer's."),
    "key_type_mismatch": (_F, "The signature's method does not fit the issuer's key."),
    "blocked_by_key": (_S, "Not checked: the signing key could not be found."),
    # ---- proofs and tokens
    "unsupported_cryptosuite": (_F, "The badge is signed with a method this checker does not support."),
    "signature_mismatch": (_F, "The signature does not match: the badge was changed after it was signed, or it was "
                               "signed with a different key."),
    "wrong_proof_purpose": (_F, "The signature was not made for issuing badges."),
    "previous_proof_missing": (_F, "A signature refers to another signature that is not there."),
    "previous_proof_unverified": (_F, "A signature builds on another signature that does not verify."),
    "proof_context_mismatch": (_F, "The signature was made over different terms than the badge uses."),
    "proof_expired": (_F, "The signature itself has expired."),
    "proof_created_in_future": (_F, "The signature claims to be made in the future."),
    "alg_none": (_F, "The badge is not signed: its signature is marked as absent."),
    "alg_not_allowed": (_F, "The badge is signed with a method that is not allowed."),
    "invalid_jws": (_F, "The signed badge text is malformed."),
    "malformed_jws": (_F, "The signed badge text is malformed."),
    "not_a_jws": (_F, "This is an encrypted text, not a signed badge."),
    "unsupported_header": (_F, "The signed badge text asks for processing this checker does not support."),
    "private_key_in_header": (_F, "The signed badge text reveals a secret key; it cannot be trusted."),
    "jwt_claims_mismatch": (_F, "The signed badge text says different things in two places."),
    "jwt_ambiguous_credential": (_F, "The signed badge text carries two badges, so it is unclear which one was "
                                     "checked; it is rejected."),
    # ---- dates
    "not_yet_valid": (_F, "The badge is not valid yet."),
    "expired": (_F, "The badge has expired."),
    "invalid_date": (_F, "The badge's dates are malformed."),
    # ---- status
    "no_status": (_S, "The issuer publishes no way to withdraw this badge, so there is nothing to check."),
    "malformed_status": (_F, "The badge's revocation information is malformed, so whether it was withdrawn cannot "
                             "be trusted."),
    "status_list_unreachable": (_I, "Whether the badge was withdrawn could not be checked: the issuer's list of "
                                    "withdrawn badges could not be fetched."),
    "status_list_untrusted": (_F, "The issuer's list of withdrawn badges is not trustworthy (its signature, issuer "
                                  "or own state does not check out)."),
    "status_list_mismatch": (_F, "The badge points to a list of withdrawn badges that is not the list it claims to "
                                 "be."),
    "status_list_from_another_issuer": (_F, "The list of withdrawn badges was published by someone other than the "
                                            "issuer."),
    "status_list_expired": (_I, "Whether the badge was withdrawn could not be checked: the issuer's list of "
                                "withdrawn badges has expired and has not been renewed."),
    "status_list_not_yet_valid": (_I, "Whether the badge was withdrawn could not be checked: the issuer's list of "
                                      "withdrawn badges is not valid yet."),
    "status_purpose_mismatch": (_F, "The badge points to a list kept for a different purpose."),
    "malformed_status_list": (_F, "The issuer's list of withdrawn badges is damaged or malformed."),
    "status_index_out_of_range": (_F, "The badge points to a place outside the issuer's list of withdrawn badges."),
    "revoked": (_F, "The issuer has revoked this badge."),
    "suspended": (_F, "The issuer has suspended this badge."),
    "unsupported_status_type": (_I, "Whether the badge was withdrawn could not be checked: it uses a kind of check "
                                    "this checker does not support."),
    "unsupported_status": (_I, "Whether the badge was withdrawn could not be checked: it uses an option this "
                               "checker does not support."),
    "depth_limit": (_S, "Not followed further: checks of badges inside badges stop one level deep."),
    # ---- recipient
    "no_recipient_given": (_S, "No recipient given to compare with."),
    "recipient_mismatch": (_F, "The badge was not issued to the person you named."),
    "no_recipient_to_compare": (_I, "The badge holds nothing to compare the recipient with."),
    # ---- related resources
    "no_related_resources": (_S, "The badge links no files that it protects from change."),
    "related_resource_digest_mismatch": (_F, "A file the badge links to has changed since the badge was signed."),
    "related_resource_unavailable": (_S, "A file the badge links to could not be fetched, so whether it changed "
                                         "was not checked."),
    "related_resource_malformed": (_F, "The badge's list of linked files is malformed."),
    "related_resource_digest_unsupported": (_S, "A linked file is protected in a way this checker does not "
                                                "support, so whether it changed was not checked."),
    # ---- endorsements
    "no_endorsements": (_S, "No endorsements attached."),
    "endorsement_invalid": (_W, "An endorsement attached to the badge does not verify; the badge itself is not "
                                "affected."),
    "too_many_endorsements": (_W, "More endorsements are attached than this checker checks."),
    # ---- presentations
    "not_a_presentation": (_F, "This is not a set of badges presented by their holder."),
    "too_many_credentials": (_F, "More badges were presented at once than this checker checks."),
    "enveloped_credential_unsupported": (_F, "A badge was presented in a wrapped form this checker does not read "
                                             "here."),
    "presentation_not_signed": (_F, "The badges were presented without the holder's signature, but one was asked "
                                    "for."),
    "challenge_mismatch": (_F, "The holder signed for a different request than this one."),
    "domain_mismatch": (_F, "The holder signed for another website."),
    "holder_mismatch": (_F, "The badges were signed by someone other than the person presenting them."),
    "method_not_in_authentication": (_F, "The holder's key is not one the holder uses to sign in."),
    # ---- Open Badges 2.0
    "hosted_verification": (_S, "An older (Open Badges 2.0) badge hosted by its issuer: trust comes from the "
                                "issuer's own website, not from a signature."),
    "not_ob2": (_F, "This is not an Open Badges 2.0 badge."),
    "malformed_assertion": (_F, "The Open Badges 2.0 badge is malformed."),
    "malformed_badge": (_F, "The Open Badges 2.0 badge description is malformed."),
    "malformed_issuer": (_F, "The Open Badges 2.0 issuer profile is malformed."),
    "malformed_recipient": (_F, "The badge's recipient is malformed."),
    "assertion_unreachable": (_I, "The badge could not be fetched from the issuer's website."),
    "badge_unreachable": (_I, "The badge description could not be fetched from the issuer's website."),
    "issuer_unreachable": (_I, "The issuer's profile could not be fetched from its website."),
    "key_unreachable": (_I, "The issuer's public key could not be fetched right now."),
    "assertion_id_mismatch": (_F, "The badge is not hosted at the address it gives as its own."),
    "assertion_mismatch": (_F, "The badge hosted by the issuer differs from the one given."),
    "assertion_from_another_origin": (_F, "The badge is hosted on a different website than its issuer's."),
    "badge_id_mismatch": (_F, "The badge description is not at the address the badge points to."),
    "issuer_id_mismatch": (_F, "The issuer profile does not have the address the badge points to."),
    "no_issuer_key": (_F, "The issuer publishes no key that could have signed this badge."),
    "no_trusted_key": (_F, "The badge was signed with a key the issuer does not list."),
    "signature_missing": (_F, "The badge says it is signed but carries no signature."),
    "unsupported_verification_type": (_F, "The badge uses a way of checking it that this checker does not support."),
    "verification_type_mismatch": (_F, "The badge's way of checking does not match how it was given."),
    "status_list_invalid": (_F, "The issuer's list of revoked badges is malformed."),
    "not_https_url": (_F, "A link in the badge is not a secure https address."),
    "not_reached": (_S, "Not checked: an earlier check stopped the verification."),
    # ---- the network (details of "could not retrieve")
    "fetch_failed": (_I, "A document could not be fetched."),
    "timeout": (_I, "A website took too long to answer."),
    "http_status": (_I, "A website answered with an error."),
    "too_many_redirects": (_I, "A website redirected too many times."),
    "fetch_budget_exceeded": (_I, "The check needed more downloads than it is allowed."),
    "host_fetch_budget_exceeded": (_I, "The check needed more downloads from one website than it is allowed."),
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
    "not_base64url": (_F, "A value is not in the encoding it should be in."),
    "not_gzip": (_F, "A compressed value is damaged."),
    "not_multibase": (_F, "A value is not in the encoding it should be in."),
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
