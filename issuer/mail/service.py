"""Award emails: deliver what is queued, queue expiry reminders."""
from __future__ import annotations

from issuer.runtime import Runtime


class MailService:
    """Award emails: deliver what is queued, queue expiry reminders."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
