"""Setting up an installation (issuer, first key, status lists) and its demo data."""
from __future__ import annotations

from issuer.awards.allocation import StatusIndexes
from issuer.runtime import Runtime


class SetupService:
    """Setting up an installation (issuer, first key, status lists) and its demo data."""

    def __init__(self, runtime: Runtime, indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.indexes = indexes
