"""Changing an award's or a VC-API credential's status (revoke, suspend, unsuspend), renewing, re-issuing,
listing what expires soon.
"""
from __future__ import annotations

from issuer.awards.allocation import StatusIndexes
from issuer.runtime import Runtime


class StatusService:
    """Changing an award's or a VC-API credential's status (revoke, suspend, unsuspend), renewing, re-issuing,
    listing what expires soon.
    """

    def __init__(self, runtime: Runtime, indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.indexes = indexes
