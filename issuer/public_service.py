"""What the public pages and documents show: credentials, achievements, profiles, the issuer's DID document and
status lists.
"""
from __future__ import annotations

from issuer.runtime import Runtime


class PublicService:
    """What the public pages and documents show: credentials, achievements, profiles, the issuer's DID document
    and status lists.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
