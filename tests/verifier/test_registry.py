"""The registry of check ids and reason codes (issue 11 section 8): every code the verifier can
raise or report is registered with a status and a plain-language message.

The sources are scanned for the ways a code is given (``code="..."``, ``reported(CheckId.X, "...")``,
the modules' error helpers, OB 2.0 ``record``/``stop`` calls), so a new code without an entry
fails here, and a report built at run time is checked too."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import verifier
from verifier.registry import CHECK_ORDER, CHECK_TITLES, REASONS, CheckId, Reason, Status, explain, status_of

SOURCES = Path(verifier.__file__).parent
_HELPERS = r"_refuse|_?Stop|_error|key_error|fetch_error|_fail|_binding_error|bad|_invalid_did|_bad|_outcome"
PATTERNS = [
    re.compile(r'\bcode\s*=\s*"([a-z][a-z0-9_]+)"'),
    re.compile(r'\b(?:reported|skipped)\(\s*CheckId\.\w+,\s*"([a-z][a-z0-9_]+)"'),
    re.compile(rf'\b(?:{_HELPERS})\(\s*"([a-z][a-z0-9_]+)"'),
    re.compile(r'\b(?:record|stop)\(\s*"[a-z_]+",\s*"[a-z]+",\s*"([a-z][a-z0-9_]+)"'),
    re.compile(r'Ob2Check\(\s*"[a-z_]+",\s*"[a-z]+",\s*"([a-z][a-z0-9_]+)"'),
]


def codes_in_sources() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in SOURCES.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in PATTERNS:
            for match in pattern.finditer(text):
                found.setdefault(match.group(1), set()).add(path.name)
    return found


def test_the_scan_finds_the_codes_it_should():
    found = codes_in_sources()
    for code in ("revoked", "non_term_key", "key_not_listed_by_issuer", "assertion_from_another_origin",
                 "host_rate_limited", "jwt_ambiguous_credential", "proof_expired"):
        assert code in found, code


def test_every_code_the_verifier_gives_is_registered_with_a_message():
    missing = {code: sorted(where) for code, where in codes_in_sources().items() if code not in REASONS}
    assert not missing


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_registered_reason_has_a_status_and_a_plain_sentence(code):
    info = REASONS[code]
    assert info.status in (Status.FAILED, Status.INDETERMINATE, Status.SKIPPED, Status.WARNING)
    assert info.message[:1].isupper() and info.message.endswith((".", ".)")), info.message
    assert "_" not in info.message, "plain words, not code names"
    assert Reason(code) == code and explain(code) == info.message and status_of(code) == info.status


def test_every_check_has_a_title_and_a_place_in_the_order():
    assert set(CHECK_ORDER) == set(CheckId) == set(CHECK_TITLES)


def test_could_not_check_is_not_bad():
    assert status_of("key_unresolvable") == Status.INDETERMINATE
    assert status_of("status_list_unreachable") == Status.INDETERMINATE
    assert status_of("signature_mismatch") == Status.FAILED
    assert status_of("schema_violation") == Status.WARNING
