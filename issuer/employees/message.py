"""The sign-in email: composed by one function, :func:`sign_in_message`, so it moves as one piece.

Plain text for now (the award emails' templates may take it over later); pure. The subject and
greeting go through :func:`~issuer.mail.transport.clean_header`. The email says how long the link
works and that it works once, and what to do if the person did not ask for it.
"""
from __future__ import annotations

from dataclasses import dataclass

from issuer.mail.transport import clean_header

_BODY = """Hello {greeting},

Someone (we hope you) asked to sign in to "My badges" at {issuer}. Open this link to sign in:

{url}

The link works once, for {minutes} minutes. On "My badges" you can see and download your badges
and choose what others see: your name on each badge's page and your public skill profile.

If you did not ask for this, ignore this email: nobody can sign in without the link.

{issuer}
"""


@dataclass(frozen=True)
class SignInMail:
    """Subject and text of the sign-in email (OutboxMessage fields)."""

    subject: str
    body: str


def sign_in_message(*, issuer_name: str, to_name: str | None, url: str, minutes: int) -> SignInMail:
    """The email that carries a one-time sign-in link ``url``, valid for ``minutes``."""
    issuer = clean_header(issuer_name, 120) or "your employer"
    body = _BODY.format(greeting=clean_header(to_name, 100) or "there", issuer=issuer, url=url, minutes=minutes)
    return SignInMail(subject=clean_header(f"Your sign-in link for My badges at {issuer}", 250), body=body)
