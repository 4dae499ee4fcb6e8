"""The issuer's signing keys: list, rotate, withdraw a compromised key (and re-issue what it signed)."""
from __future__ import annotations

from issuer.awards.allocation import StatusIndexes
from issuer.runtime import Runtime


class KeyService:
    """The issuer's signing keys: list, rotate, withdraw a compromised key (and re-issue what it signed)."""

    def __init__(self, runtime: Runtime, indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.indexes = indexes
