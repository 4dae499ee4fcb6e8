"""Bulk issuing: dry runs, runs, background jobs (upload, confirm, progress, results)."""
from __future__ import annotations

from issuer.awards.allocation import StatusIndexes
from issuer.runtime import Runtime


class BulkService:
    """Bulk issuing: dry runs, runs, background jobs (upload, confirm, progress, results)."""

    def __init__(self, runtime: Runtime, indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.indexes = indexes
