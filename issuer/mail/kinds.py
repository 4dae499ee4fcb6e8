"""The registry of email kinds: what each one is called for HR, its subject, whether the badge is attached.

Every email the issuer sends is one :class:`MailKind`; the outbox stores the kind's value in
``OutboxMessage.kind`` and the idempotency ``key`` of an award email starts with it
(``awarded:<award id>``), which is how migration 0008 named the kind of messages queued before
kinds were stored (a sign-in email's key is ``sign-in:<token hash>``, from the employee space). The subject
lines live here, next to the kind, as ``str.format`` patterns over the template context
(:mod:`issuer.mail.render`); the bodies are the template pairs ``templates/<kind>.txt`` and
``templates/<kind>.html``. Pure data.
"""
from __future__ import annotations

from enum import StrEnum


class MailKind(StrEnum):
    AWARDED = "awarded"
    RENEWED = "renewed"
    EXPIRING = "expiring"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    SIGN_IN = "sign_in"

    @property
    def label(self) -> str:
        """What HR reads on the award page: the email in plain words."""
        return _LABELS[self]

    @property
    def subject(self) -> str:
        """The subject line's pattern (``{badge}``, ``{until}``, ``{organisation}`` from the context)."""
        return _SUBJECTS[self]

    @property
    def attaches_badge(self) -> bool:
        """True when the email carries the badge image (the recipient can keep or share it)."""
        return self in (MailKind.AWARDED, MailKind.RENEWED, MailKind.EXPIRING)


_LABELS = {
    MailKind.AWARDED: "Badge awarded",
    MailKind.RENEWED: "Badge renewed",
    MailKind.EXPIRING: "Expiry reminder",
    MailKind.REVOKED: "Revocation notice",
    MailKind.SUSPENDED: "Suspension notice",
    MailKind.REINSTATED: "Reinstatement notice",
    MailKind.SIGN_IN: "Sign-in link",
}

_SUBJECTS = {
    MailKind.AWARDED: "Your new badge: {badge}",
    MailKind.RENEWED: "Your badge has been renewed: {badge}",
    MailKind.EXPIRING: "Your badge expires on {until}: {badge}",
    MailKind.REVOKED: "Your badge has been withdrawn: {badge}",
    MailKind.SUSPENDED: "Your badge is on hold: {badge}",
    MailKind.REINSTATED: "Your badge counts again: {badge}",
    MailKind.SIGN_IN: "Your sign-in link for {organisation}",
}

AWARD_KINDS = (MailKind.AWARDED, MailKind.RENEWED, MailKind.EXPIRING, MailKind.REVOKED, MailKind.SUSPENDED,
               MailKind.REINSTATED)


def label_of(kind: str | None) -> str:
    """The plain label of a stored kind (``None``, or one this version does not know: "Email")."""
    try:
        return MailKind(kind).label if kind else "Email"
    except ValueError:
        return "Email"
