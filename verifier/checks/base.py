"""What one verification carries along, and how checks make their results.

A :class:`Verification` holds the injected ports (the per-verification fetcher, the JSON-LD
engine, the clock reading) and the options. Endorsements and status list credentials are
verified by the same checks in a :meth:`Verification.child`, one level deeper, sharing the
fetcher's budget and the CPU deadline.

A check's status comes from its reason code's entry in :mod:`verifier.registry` ("could not
check" reasons are indeterminate, deviations are warnings), never from lists of codes here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ..accessors import as_list, issuer_id, types_of
from ..errors import CredentialError
from ..fetcher import Fetcher
from ..jsonld import JsonLdEngine
from ..registry import CheckId, Status, explain, status_of
from ..report import CheckResult

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_TYPES = ("OpenBadgeCredential", "AchievementCredential", "EndorsementCredential")
MAX_PROOFS = 4
MAX_ENDORSEMENTS = 8

__all__ = ["Options", "StatusMemo", "Verification", "as_list", "from_error", "issuer_id", "passed", "reported",
           "skipped", "types_of"]


class StatusMemo(Protocol):
    """Remembers, by the sha256 of its JSON, whether a status list credential verified (a dict will do).

    The value is None for a list that verified, else the error it failed with.
    """

    def __contains__(self, key: object) -> bool: ...

    def __getitem__(self, key: str) -> Exception | None: ...

    def __setitem__(self, key: str, error: Exception | None) -> None: ...


@dataclass(frozen=True)
class Options:
    """How strictly to judge. ``strict``: data-model deviations (warnings) fail the credential."""

    strict: bool = False


@dataclass
class Verification:
    """One verification's clock reading, ports, options and results so far."""

    now: datetime
    fetcher: Fetcher
    engine: JsonLdEngine
    recipient: str | None = None
    options: Options = Options()
    supplied: frozenset[str] = frozenset()   # URLs and DIDs whose documents the user supplied
    depth: int = 0
    memo: StatusMemo | None = None       # status list credential digest -> None or its error
    results: list[CheckResult] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    _first: dict[str, CheckResult] = field(default_factory=dict, repr=False, compare=False)

    def add(self, result: CheckResult) -> CheckResult:
        self.results.append(result)
        self._first.setdefault(result.check, result)
        return result

    def result(self, check_id: CheckId) -> CheckResult | None:
        """The first result added for ``check_id``."""
        return self._first.get(check_id)

    def child(self) -> Verification:
        """A verification of a nested credential (endorsement, status list), one level deeper."""
        return Verification(self.now, self.fetcher, self.engine, None, self.options, self.supplied,
                            self.depth + 1, self.memo)


def passed(check: CheckId, message: str, **details: Any) -> CheckResult:
    return CheckResult(check, Status.PASSED, message, None, details)


def skipped(check: CheckId, reason: str, message: str | None = None, **details: Any) -> CheckResult:
    return CheckResult(check, Status.SKIPPED, message or explain(reason, "Not checked."), reason, details)


def reported(check: CheckId, reason: str, detail: str | None = None, *, status: Status | None = None,
             **details: Any) -> CheckResult:
    """A result for ``reason``, with its registered status and message (``detail`` kept in details)."""
    if detail:
        details = {"error": detail, **details}
    return CheckResult(check, status or status_of(reason), explain(reason, detail or reason), reason, details)


def from_error(check: CheckId, exc: CredentialError, *, status: Status | None = None) -> CheckResult:
    """A result for a raised error: its code's registered status unless ``status`` is given."""
    return reported(check, exc.code, str(exc), status=status, **exc.details)
