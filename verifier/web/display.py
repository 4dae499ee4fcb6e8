"""What the verifier's result page shows: the verdict in plain words, then what the badge says.

Everything a credential says is attacker-controlled. :func:`present` gathers what the page shows,
each credential string passed through :func:`~verifier.web.badge_facts.shown` (invisible and bidi
control characters made visible, control characters and line breaks as spaces, length capped;
templates are autoescaped and show such strings inside ``<bdi>``). The verdict is drawn from
``report.outcome`` alone; the headline names the issuer by its name as the badge gives it next to
the website the signature proved (:mod:`verifier.plain`), never by a raw DID: the DID, reason codes
and technical messages are kept for the collapsed technical details. What the badge says (criteria,
evidence, results, dates, links to human pages) comes from :mod:`verifier.web.badge_facts`.

Input that is not a badge at all (the first check failed: random text, an image without a badge,
a web page) gets one sentence and no result cards (``readable`` is False).

:func:`readable` reads the credential JSON out of what was submitted (JSON, a JWT's payload, a
baked image) without verifying it, for what the report does not carry. :func:`credential_like`
says whether what was read is a credential at all (a VC or VP, or an OB 2.0 assertion): a fetched
document that is not one is never shown back (the link could point at any page the verifier can
reach).
"""
from __future__ import annotations

import json
from typing import Any

from ..accessors import types_of
from ..baked import extract_baked, sniff_image
from ..errors import CredentialError
from ..fetcher import strict_json_loads
from ..jws import parse_compact_jws
from ..ob2 import is_ob2
from ..plain import KEY_ONLY, claimed_name, reason_words
from ..report import (
    CHECK_TITLES,
    FAILED,
    INDETERMINATE,
    PASSED,
    SKIPPED,
    WARNING,
    CheckResult,
    VerificationReport,
)
from .badge_facts import badge_facts, badge_image, shown, skills
from .submission import Submission

__all__ = ["VERDICTS", "badge_image", "credential_like", "present", "readable", "shown", "skills"]

MAX_SHOWN_JSON = 200_000

VERDICTS = {
    "verified": ("Verified", "ok", "✓"),
    "not_verified": ("Not verified", "bad", "✗"),
    "indeterminate": ("Could not be fully checked", "unknown", "?"),
}
STATUS_WORDS: dict[str, str] = {PASSED: "Passed", FAILED: "Failed", INDETERMINATE: "Could not check",
                                 SKIPPED: "Not checked", WARNING: "Warning"}
NOT_A_BADGE_PAGE = "The page at this address is not a badge."


def readable(source: Any) -> dict[str, Any] | None:
    """The credential JSON inside ``source`` (JSON, a JWT's payload, a baked image), unverified."""
    try:
        if isinstance(source, (bytes, bytearray)):
            if sniff_image(source):
                baked = extract_baked(bytes(source))
                source = baked.value if baked.kind != "url" else ""
            else:
                source = bytes(source).decode("utf-8")
        if isinstance(source, str):
            text = source.strip()
            if text.startswith("{"):
                source = strict_json_loads(text.encode("utf-8"))
            else:
                _, payload, _, _ = parse_compact_jws(text)
                vc = payload.get("vc") if isinstance(payload, dict) else None
                source = vc if isinstance(vc, dict) and "@context" not in payload else payload
    except (CredentialError, ValueError, UnicodeError, RecursionError):
        return None
    return source if isinstance(source, dict) else None


def credential_like(document: Any) -> bool:
    """True for a credential or presentation (by ``type``) or an OB 2.0 assertion; not verified."""
    if not isinstance(document, dict):
        return False
    kinds = types_of(document)
    return "VerifiableCredential" in kinds or "VerifiablePresentation" in kinds or is_ob2(document)


def _title(check: CheckResult) -> str:
    return CHECK_TITLES.get(check.check, check.check)


def _check_view(check: CheckResult) -> dict[str, Any]:
    trouble = check.status in (FAILED, INDETERMINATE)
    return {"id": check.check, "title": _title(check), "status": check.status,
            "word": STATUS_WORDS.get(check.status, check.status),
            "text": shown(reason_words(check.message, check.details) if trouble else check.message, 600),
            "items": _items(check)}


def _technical(check: CheckResult) -> dict[str, Any] | None:
    """A check's reason code and precise message, for the technical details (None for a pass)."""
    if check.status == PASSED:
        return None
    error = check.details.get("error")
    return {"title": _title(check), "reason": check.reason, "error": shown(error, 600) if isinstance(error, str)
            else None, "deviations": _deviations(check)}


def _deviations(check: CheckResult) -> list[str]:
    """Each deviation from the standard (field path and precise message), for the technical details."""
    lines = [f"{d.get('path')}: {d.get('message')}" for d in check.details.get("deviations") or []
             if isinstance(d, dict)]
    return [text for text in (shown(line, 400) for line in lines[:20]) if text]


def _items(check: CheckResult) -> list[str]:
    """The lines under a check: how many details differ from the standard, each endorsement's verdict."""
    lines = []
    count = len([d for d in check.details.get("deviations") or [] if isinstance(d, dict)])
    if count:
        lines.append(f"{count} detail{'s' if count > 1 else ''} differ{'' if count > 1 else 's'} from the standard; "
                     "the technical details below list them.")
    for endorsement in check.details.get("endorsements") or []:
        if isinstance(endorsement, dict):
            headline = endorsement.get("headline")
            lines.append(f"An endorsement: {headline}" if isinstance(headline, str) else "An endorsement.")
    return [text for text in (shown(line, 400) for line in lines[:20]) if text]


def _keys(report: VerificationReport) -> list[tuple[str, str]]:
    check = report.check("key")
    details = check.details if check is not None and check.status == PASSED else {}
    methods = details.get("methods") or ({details["method"]: details.get("source")} if details.get("method") else {})
    return [(shown(vm, 600) or "", shown(source, 40) or "") for vm, source in methods.items() if isinstance(vm, str)]


def _json_text(value: Any) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_SHOWN_JSON else text[:MAX_SHOWN_JSON] + "\n… (cut here)"


def _issuer(report: VerificationReport) -> dict[str, Any]:
    """Who issued it: the name as given, the website proven (or that it is tied to a key alone)."""
    found = report.summary.get("issuer")
    issuer: dict[str, Any] = found if isinstance(found, dict) else {}
    proof = report.check("proof")
    # an issuer is proven only by a signature that matched, made with a key the issuer controls
    proven = bool(issuer.get("proven")) and (report.verified or (proof is not None and proof.status == PASSED))
    website = issuer.get("proven_website") if proven else None
    return {"proven": proven, "website": shown(website, 300), "key_only": proven and not website,
            "key_only_text": KEY_ONLY[0].upper() + KEY_ONLY[1:] + ".",
            "name": shown(claimed_name(issuer.get("name_as_claimed"))), "id": shown(issuer.get("id"), 600),
            "proven_id": shown(issuer.get("proven"), 600) if proven else None}


def _cause(report: VerificationReport, sub: Submission) -> str | None:
    """The one sentence that says why it did not verify (the first failed, else unknown, check)."""
    if report.outcome == "verified":
        return None
    cause = next((c for c in report.checks if c.status == FAILED), None) or next(
        (c for c in report.checks if c.status == INDETERMINATE), None)
    if cause is None:
        return None
    if sub.url is not None and cause.check == "parse" and cause.reason in ("not_json", "not_a_credential"):
        return NOT_A_BADGE_PAGE
    return shown(reason_words(cause.message, cause.details), 600)


def present(report: VerificationReport, document: dict[str, Any] | None, sub: Submission) -> dict[str, Any]:
    """Everything the result page shows, each credential string already made safe to look at."""
    summary = report.summary
    parse = report.check("parse")
    recipient = report.check("recipient")
    return {
        "outcome": report.outcome, "verdict": VERDICTS[report.outcome], "cause": _cause(report, sub),
        "readable": parse is not None and parse.status == PASSED,
        "issuer": _issuer(report), "badge": badge_facts(document, report),
        "recipient": _check_view(recipient) if recipient is not None else None,
        "hashed_email": "emailAddress" in ((summary.get("recipient") or {}).get("identifiers") or []),
        "checks": [_check_view(c) for c in report.checks],
        "technical": [t for t in (_technical(c) for c in report.checks) if t is not None],
        "signing_keys": _keys(report), "url": sub.url,
        "credential_json": _json_text(document) if document is not None else None,
        "report_json": _json_text(report.to_dict()),
    }
