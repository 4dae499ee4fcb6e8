"""Fetching the documents an Open Badges 2.0 assertion points to, through the verification's fetcher.

Every document comes through ``Verification.fetcher`` (its budget, caches, address rules and
any documents the user supplied). URLs must be https; plain http only for a host the fetcher's
policy allows (``FetchPolicy.allow_hosts``, ``microcred verify --allow-http-host``). Refusals
are failures (``not_https_url``, ``private_address``, ...); a document that cannot be retrieved
now is indeterminate (``badge_unreachable``, ...); one that is not a JSON object is malformed.

Where a document must be (OB 2.0 §Verification, "Hosted verification": "the Assertion ... must
be hosted at its id"): :meth:`Documents.get_at_id` returns a document only from the URL equal to
its ``id``. With ``follow``, a document whose ``id`` differs from the URL it was fetched from
is fetched once more from that ``id`` and accepted if it is hosted there, as the 1EdTech
validator does (``openbadges/verifier/tasks/graph.py`` ``jsonld_compact_data``: "Node fetched
from source ... declared its id as ...", then a new fetch of the declared id, whatever its
origin); the move is kept in ``moved``. BadgeClasses and issuer Profiles are followed; an
assertion only when all that was given is a URL to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..errors import CredentialError
from ..fetcher import Fetcher, FetchError, host_allowed
from ..jsonutil import find_lone_surrogate
from ..limits import check_structure
from ..registry import CheckId
from ..urls import origin
from .parse import Ob2Problem, ref_id

ACCEPT = "application/ld+json, application/json;q=0.9"
# the fetcher refused the URL itself: a property of the badge, not of the network today
_REFUSALS = frozenset({"scheme_not_allowed", "port_not_allowed", "private_address", "userinfo_in_url",
                       "invalid_url"})
_BUDGET = frozenset({"fetch_budget_exceeded", "host_fetch_budget_exceeded"})


@dataclass(frozen=True)
class Kind:
    """A kind of document: what to call it, and its reason codes."""

    what: str
    unreachable: str
    malformed: str
    mismatch: str
    check: CheckId = CheckId.FETCH


ASSERTION = Kind("hosted assertion", "assertion_unreachable", "malformed_assertion", "assertion_id_mismatch")
BADGE = Kind("BadgeClass", "badge_unreachable", "malformed_badge", "badge_id_mismatch")
ISSUER = Kind("issuer Profile", "issuer_unreachable", "malformed_issuer", "issuer_id_mismatch")
KEY = Kind("CryptographicKey", "key_unreachable", "invalid_key", "key_not_controlled_by_issuer", CheckId.KEY)
REVOCATIONS = Kind("revocation list", "status_list_unreachable", "status_list_invalid", "status_list_invalid",
                   CheckId.STATUS)


class Documents:
    """The OB 2.0 documents of one verification, fetched with ``fetcher``."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self.fetched: list[str] = []
        self.moved: dict[str, str] = {}

    def get(self, url: Any, kind: Kind) -> dict[str, Any]:
        """The JSON object at ``url``; raises :class:`Ob2Problem` (under ``kind.check``)."""
        self._check_url(url, kind)
        try:
            document = self.fetcher.fetch_json(url, accept=ACCEPT)
        except FetchError as exc:
            raise _fetch_problem(exc, url, kind) from None
        if not isinstance(document, dict):
            raise Ob2Problem(kind.check, kind.malformed, f"the {kind.what} at {url} is not a JSON object", {"url": url})
        try:
            check_structure(document)
        except CredentialError as exc:
            raise Ob2Problem(kind.check, kind.malformed, f"the {kind.what} at {url}: {exc}", {"url": url}) from None
        if find_lone_surrogate(document) is not None:
            raise Ob2Problem(kind.check, kind.malformed, f"the {kind.what} at {url} is not valid Unicode",
                             {"url": url})
        self.fetched.append(url)
        return document

    def get_at_id(self, url: Any, kind: Kind, *, follow: bool = False) -> dict[str, Any]:
        """The document hosted at its own ``id`` (``url``, or with ``follow`` the id it declares)."""
        document = self.get(url, kind)
        declared = document.get("id")
        if declared == url:
            return document
        if follow and isinstance(declared, str) and origin(declared) is not None:
            moved = self.get(declared, kind)
            if moved.get("id") == declared:
                self.moved[url] = declared
                return moved
            url, document = declared, moved
        raise Ob2Problem(kind.check, kind.mismatch,
                         f"the {kind.what} fetched from {url} says its id is {str(document.get('id'))[:200]!r}: "
                         "it is not where it says it is", {"url": url, "id": document.get("id")})

    def badge_and_issuer(self, assertion: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The assertion's BadgeClass (fetched, or as embedded) and its issuer Profile, always
        fetched from its id: an embedded Profile is never trusted for keys or verification policy."""
        badge_ref = assertion.get("badge")
        if isinstance(badge_ref, str):
            badge = self.get_at_id(badge_ref, BADGE, follow=True)
        elif isinstance(badge_ref, dict):
            badge = badge_ref
        else:
            raise Ob2Problem(CheckId.FETCH, "malformed_assertion",
                             "the assertion's badge is neither a URL nor an object")
        issuer_ref = ref_id(badge.get("issuer"))
        if issuer_ref is None:
            raise Ob2Problem(CheckId.FETCH, "malformed_badge", "the BadgeClass names no issuer")
        return badge, self.get_at_id(issuer_ref, ISSUER, follow=True)

    def _check_url(self, url: Any, kind: Kind) -> None:
        """https, or http to a host the policy allows; no userinfo (before the fetcher's own rules)."""
        where = origin(url)
        if where is not None and where.startswith("https://"):
            return
        if where is not None:
            parts = urlsplit(url)
            if host_allowed(self.fetcher.policy.allow_hosts, parts.hostname or "", parts.port or 80):
                return
        raise Ob2Problem(kind.check, "not_https_url",
                         f"the {kind.what} reference {str(url)[:200]!r} is not an https URL, so it cannot be "
                         "fetched safely", {"what": kind.what, "url": url})


def _fetch_problem(exc: FetchError, url: str, kind: Kind) -> Ob2Problem:
    details = {"url": url, "fetch_error": exc.code}
    if isinstance(exc.details.get("http_status"), int):
        details["http_status"] = exc.details["http_status"]
    if exc.code in _REFUSALS or exc.code in _BUDGET:
        reason = exc.code
    elif exc.code in ("not_json", "too_large"):
        reason = kind.malformed
    else:
        reason = kind.unreachable
    return Ob2Problem(kind.check, reason, f"the {kind.what} at {url}: {str(exc)[:200]}", details)
