"""``microcred verify``: the recruiter's entry point, a thin shell over verify_credential.

The human output reads as a recruiter would say it: the first line is the verdict with who issued
the badge (its name and the website the signature proved) or the real reason it did not verify
(:mod:`verifier.plain`), plus how to allow what was refused when a flag of this command allows it
(``--allow-http-host``, ``--ca-file``); then what the badge says, one line a check (by its title),
and the issuer's technical identity last. ``--json`` prints the full report.

Exit codes: 0 verified; 1 not verified (a check failed); 3 indeterminate (nothing
failed, but something could not be checked); 2 usage error or unreadable input.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from .checks.parse import MAX_INPUT_BYTES
from .dates import DateError, parse_datetime
from .fetcher import FetchPolicy
from .plain import claimed_name, fetch_code, fetch_host, plain_date, reason_words
from .registry import CHECK_TITLES
from .report import FAILED, INDETERMINATE, PASSED, SKIPPED, WARNING, CheckResult, VerificationReport
from .verify import verify_credential

EXIT_VERIFIED, EXIT_NOT_VERIFIED, EXIT_USAGE, EXIT_INDETERMINATE = 0, 1, 2, 3
UNREADABLE = {"not_json", "too_large", "not_a_image", "not_an_image", "bad_png", "bad_svg", "unsafe_svg",
              "no_credential_in_image", "unreachable"}
MARKS: dict[str, str] = {PASSED: "✓", FAILED: "✗", INDETERMINATE: "?", SKIPPED: "-", WARNING: "!"}


def _usage_error(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _read_source(source: str) -> str | bytes:
    if source.startswith(("https://", "http://")):
        return source
    try:
        if source == "-":
            data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with open(source, "rb") as handle:
                data = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        _usage_error(f"{source}: {exc.strerror}")
    if len(data) > MAX_INPUT_BYTES:
        _usage_error(f"{source} is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB")
    return data


def _parse_at(value: str | None) -> datetime | None:
    """``--at``: a date and time read by :func:`verifier.dates.parse_datetime` (the ISO 8601 forms
    it reads leniently; without a zone, UTC), or a date alone (its midnight, UTC)."""
    if value is None:
        return None
    for text in (value, f"{value}T00:00:00"):
        try:
            return parse_datetime(text, require_zone=False, lenient=True)
        except DateError:
            continue
    _usage_error(f"--at {value!r} is not an ISO 8601 date and time")
    return None


def _parse_resolve(pairs: tuple[str, ...]) -> dict[str, bytes]:
    documents = {}
    for pair in pairs:
        url, sep, path = pair.partition("=")
        if not sep or not url or not path:
            _usage_error(f"--resolve takes URL=FILE, got {pair!r}")
        try:
            documents[url] = Path(path).read_bytes()
        except OSError as exc:
            _usage_error(f"--resolve {url}: {path}: {exc.strerror}")
    return documents


def hint(check: CheckResult) -> str | None:
    """How to allow, with a flag of this command, what the check's fetch refused (local testing)."""
    code, host = fetch_code(check.details), fetch_host(check.details, with_port=False)
    if host and code in ("scheme_not_allowed", "private_address", "port_not_allowed"):
        url = check.details.get("url")
        if code != "scheme_not_allowed" or (isinstance(url, str) and url[:7].lower() == "http://"):
            return f"use --allow-http-host {host} to allow it for testing"
    if code == "tls_error":
        return "use --ca-file PEM if the website uses your organisation's own certificate authority"
    return None


def first_line(report: VerificationReport) -> str:
    """The verdict in one line: who issued it, or the real reason (and how to allow it, if a flag does)."""
    line = report.headline
    cause = next((c for c in report.checks if c.status == FAILED), None) or next(
        (c for c in report.checks if c.status == INDETERMINATE), None)
    advice = hint(cause) if cause is not None and report.outcome != "verified" else None
    return f"{line.rstrip('.')}; {advice}." if advice else line


def render(report: VerificationReport) -> str:
    """The human-readable report: the verdict line, what the badge says, one line per check."""
    summary = report.summary
    facts = []
    achievement = summary.get("achievement") or {}
    if isinstance(achievement, dict) and isinstance(achievement.get("name"), str):
        facts.append(f"Badge:       {claimed_name(achievement['name'])}")
    issuer = summary.get("issuer") or {}
    name = claimed_name(issuer.get("name_as_claimed"))
    if name:
        facts.append(f"Issuer:      {name} (the name as the badge gives it)")
    recipient = summary.get("recipient") or {}
    if recipient.get("identifiers") and not recipient.get("id"):
        facts.append("Recipient:   named by a hashed email address (check it with --recipient-email)")
    facts += [f"{label + ':':12} {value}" for label, value in _dates(summary.get("dates") or {})]
    checks = []
    for check in report.checks:
        title = CHECK_TITLES.get(check.check, check.check)
        message = reason_words(check.message, check.details) if check.status in (FAILED, INDETERMINATE) \
            else check.message
        checks.append(f"{MARKS.get(check.status, '?')} {title}: {message}")
        if check.status == WARNING:
            checks += [f"    - {item.get('path')}: {item.get('message')}"
                       for item in (check.details.get("deviations") or [])[:10]]
    blocks = [[first_line(report)], facts, checks]
    if summary.get("supplied_by_user"):
        blocks.append(["Documents you supplied (--resolve) were used instead of the network: "
                       + ", ".join(summary["supplied_by_user"])])
    if issuer.get("id"):
        proven = "proven by the signature" if issuer.get("proven") else "not proven"
        blocks.append([f"Technical details: issuer id {issuer['id']} ({proven}); --json shows the full report."])
    return "\n\n".join("\n".join(block) for block in blocks if block)


DATE_LABELS = {"validFrom": "Valid from", "validUntil": "Valid until", "issuanceDate": "Issued",
               "expirationDate": "Expires", "awardedDate": "Awarded"}


def _dates(dates: dict[str, object]) -> list[tuple[str, str]]:
    out = []
    for key, label in DATE_LABELS.items():
        value = dates.get(key)
        if isinstance(value, str):
            try:
                out.append((label, plain_date(parse_datetime(value, require_zone=False, lenient=True))))
            except DateError:
                out.append((label, claimed_name(value) or ""))
    return out


@click.command()
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.option("--recipient-email", metavar="EMAIL", help="Check the credential was issued to this email.")
@click.option("--at", "at", metavar="ISO8601", help="Check validity at this time instead of now.")
@click.option("--offline", is_flag=True, help="No network: did:key, bundled contexts and --resolve files only.")
@click.option("--resolve", "resolve", multiple=True, metavar="URL=FILE",
              help="Serve URL (or DID) from FILE instead of the network. Repeatable.")
@click.option("--allow-http-host", "allow_hosts", multiple=True, metavar="HOST",
              help="Allow plain http and private addresses for HOST (local development). Repeatable.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), metavar="PEM",
              help="Also trust this CA bundle for https (e.g. a company's internal CA).")
@click.option("--strict", is_flag=True,
              help="Fail on data-model deviations and bad endorsements instead of warning about them.")
def verify(source: str, as_json: bool, recipient_email: str | None, at: str | None, offline: bool,
           resolve: tuple[str, ...], allow_hosts: tuple[str, ...], ca_file: str | None, strict: bool) -> None:
    """Verify a credential: a file (JSON, JWT, PNG or SVG badge), '-' for stdin, or an https URL."""
    data = _read_source(source)
    report = verify_credential(data, recipient=recipient_email, now=_parse_at(at), offline=offline,
                               documents=_parse_resolve(resolve), strict=strict,
                               policy=FetchPolicy(allow_hosts=frozenset(h.lower() for h in allow_hosts),
                                                  ca_file=ca_file))
    click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if as_json else render(report))
    parse = report.check("parse")
    if parse is not None and parse.status == FAILED and parse.reason in UNREADABLE:
        sys.exit(EXIT_USAGE)
    sys.exit({"verified": EXIT_VERIFIED, "not_verified": EXIT_NOT_VERIFIED}.get(report.outcome, EXIT_INDETERMINATE))
