"""Credentials signed through the VC-API: issuing (recorded, with status entries from the issuer's lists), listing."""
from __future__ import annotations

from issuer.awards.allocation import StatusIndexes
from issuer.runtime import Runtime


class VcapiService:
    """Credentials signed through the VC-API: issuing (recorded, with status entries from the issuer's lists),
    listing.
    """

    def __init__(self, runtime: Runtime, indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.indexes = indexes
