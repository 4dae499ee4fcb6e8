"""Finding awards and recipients: the one search the console and the REST API share."""
from __future__ import annotations

from issuer.runtime import Runtime


class AwardSearchService:
    """Finding awards and recipients: the one search the console and the REST API share."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
