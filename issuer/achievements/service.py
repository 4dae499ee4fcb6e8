"""Achievements (define, change, preview, list) and the skills they align to (skills held, coverage)."""
from __future__ import annotations

from issuer.runtime import Runtime


class AchievementService:
    """Achievements (define, change, preview, list) and the skills they align to (skills held, coverage)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
