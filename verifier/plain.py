"""Plain words for a recruiter: who issued a badge, and the specific reason a check did not pass.

Role: the sentences the report's headline, ``microcred verify``'s first line and the result page
share. Contract: pure functions over the report's summary (``summary["issuer"]``) and a check's
reason and details; they never decide a verdict, they only word it.

Decisions:

* The issuer is named by its name *as the badge gives it* next to the website the signature
  proved (``Example Corp — proven: example.com``; :func:`verifier.identity.proven_website`), never
  by a raw DID (that stays in the technical details). A name that could pass for the proof itself
  (it says "proven", or holds the dash that separates the two) is shown in quotes. An issuer proven
  only by a key (did:key, did:jwk) is not named at all in the headline: anyone can make such a key
  and call it "Harvard University"; the page shows that name further down, marked as claimed.
* The specific reason: a check whose details carry a fetch error code (``fetch_error``, or
  ``error_code`` from the status check) gets the registered sentence plus a clause saying what
  exactly happened to which address (:func:`fetch_clause`), so "could not be retrieved" becomes
  "could not be retrieved: the address uses plain http, which is refused". The precise technical
  message stays in the check's details.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

__all__ = ["KEY_ONLY", "MAX_NAME", "claimed_name", "fetch_clause", "fetch_code", "fetch_facts", "fetch_host",
           "issuer_words", "plain_date", "reason_words"]

MAX_NAME = 120
KEY_ONLY = ("an issuer that is not tied to any website: it is known only by a key, which anyone can create")
_SPACES = re.compile(r"\s+")
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def plain_date(moment: datetime) -> str:
    """A date and time as people read it: ``31 January 2026, 09:00 UTC`` (its own zone kept)."""
    text = f"{moment.day} {moment:%B %Y, %H:%M}"
    if moment.tzinfo is None:
        return text
    return f"{text} {'UTC' if not moment.utcoffset() else moment.strftime('%z')}"


def claimed_name(value: Any) -> str | None:
    """The issuer's name as the badge gives it, on one line, invisible characters shown, capped."""
    if not isinstance(value, str):
        return None
    text = "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in _INVISIBLE and c not in "\t\n\r" else c
                   for c in value)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        return None
    return text if len(text) <= MAX_NAME else text[:MAX_NAME - 1] + "…"


def _quoted_if_misleading(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold()
    if "proven" in folded or "—" in folded or "–" in folded:
        return "“" + name.replace("“", '"').replace("”", '"') + "”"
    return name


def issuer_words(issuer: Mapping[str, Any] | None) -> str | None:
    """Who issued it, in a recruiter's words (``Example Corp — proven: example.com``); None when the
    signature proved no issuer."""
    issuer = issuer if isinstance(issuer, Mapping) else {}
    if not issuer.get("proven"):
        return None
    website = issuer.get("proven_website")
    if not isinstance(website, str) or not website:
        return KEY_ONLY
    name = claimed_name(issuer.get("name_as_claimed"))
    return f"{_quoted_if_misleading(name) if name else 'an issuer that gives no name'} — proven: {website}"


def fetch_facts(error_details: Mapping[str, Any]) -> dict[str, Any]:
    """What of a fetch error's details the words need, to keep in a check's details: the HTTP status,
    the port, and the address actually refused (``fetch_url``: after a redirect, not the one given)."""
    facts = {k: error_details[k] for k in ("http_status", "port") if k in error_details}
    if isinstance(error_details.get("url"), str):
        facts["fetch_url"] = error_details["url"][:2048]
    return facts


def fetch_code(details: Mapping[str, Any]) -> str | None:
    """The fetch error code a check's details carry, if any."""
    code = details.get("fetch_error") or details.get("error_code")
    return code if isinstance(code, str) else None


def fetch_host(details: Mapping[str, Any], *, with_port: bool = True) -> str | None:
    """The host of the address a fetch failed on (IPv6 in brackets; with its port when it is not the
    default, unless not ``with_port``)."""
    url = details.get("fetch_url") or details.get("url")
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port and port not in (80, 443) and with_port else host


def _port(url: str) -> int | None:
    try:
        return urlsplit(url).port
    except ValueError:
        return None


def fetch_clause(code: str | None, details: Mapping[str, Any]) -> str | None:
    """What exactly went wrong reaching an address, as a clause (no capital, no full stop)."""
    where = fetch_host(details) or "the website"
    url = details.get("fetch_url") or details.get("url")
    url = url if isinstance(url, str) else ""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    port = details.get("port") if isinstance(details.get("port"), int) else _port(url)
    status = details.get("http_status")
    clauses = {
        "scheme_not_allowed": "the address uses plain http, which is refused" if scheme == "http"
        else "the address does not start with https://, so it is not opened",
        "port_not_allowed": f"the address uses port {port or 'other than 443'}, and only the standard https "
                            "port (443) is used",
        "private_address": f"{where} is a private or local address, which is never contacted",
        "userinfo_in_url": "the address carries a user name or password, which is never sent",
        "invalid_url": "the address is malformed",
        "network_forbidden": "offline mode is on, so nothing is fetched from the internet",
        "timeout": f"{where} took too long to answer",
        "http_status": f"{where} answered with an error (HTTP {status})" if isinstance(status, int)
        else f"{where} answered with an error",
        "too_many_redirects": f"{where} sent the request on to other addresses too many times",
        "too_large": f"what {where} sent is too large",
        "not_json": f"what {where} sent is not in the expected format",
        "bad_encoding": f"what {where} sent is not readable text",
        "dns_failure": f"the name {where} does not exist or could not be looked up",
        "connection_failed": f"{where} could not be reached",
        "tls_error": f"the secure connection to {where} failed (its certificate is not trusted)",
        "fetch_budget_exceeded": "checking it needed more downloads than one check is allowed",
        "host_fetch_budget_exceeded": f"checking it needed more downloads from {where} than one check is allowed",
        "host_rate_limited": f"too many checks are reaching {where} right now; try again shortly",
        "host_busy": f"too many checks are reaching {where} right now; try again shortly",
    }
    return clauses.get(code or "")


def reason_words(message: str, details: Mapping[str, Any] | None) -> str:
    """``message`` (a registered sentence) made specific with what exactly happened, when known."""
    clause = fetch_clause(fetch_code(details or {}), details or {})
    if not clause:
        return message
    return f"{message.rstrip('.')}: {clause}."
