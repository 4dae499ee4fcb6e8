"""Staff accounts, console sign-in sessions and API tokens."""
from __future__ import annotations

from issuer.runtime import Runtime


class AccessService:
    """Staff accounts, console sign-in sessions and API tokens."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
