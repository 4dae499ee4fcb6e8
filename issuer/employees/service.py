"""The employees' use cases: sign in by emailed link, "My badges", privacy choices (``services.employees``).

    employees = services.employees
    employees.request_sign_in("Alex@Example.com")       # same outcome whether or not the address has badges
    employees.deliver_mail()                             # after answering: send what is due, then
                                                         # forget_sent_links(): blank the sent links' text
    employees.link_works(token)                          # the confirm page: True while usable
    cookie = employees.sign_in(token)                    # None: unknown, used or expired
    cookie = employees.sign_in_verified("alex@example.com")  # the identity provider proved it; None: no badges
    me = employees.signed_in(cookie)                     # Employee(email, recipient_id, name) or None
    mine = employees.my_badges(me)                       # MyBadges: the profile and every award, in plain words
    employees.choose_badge_name(me, award_id, True)      # name on that badge's public page
    employees.choose_profile_listing(me, award_id, False)
    employees.publish_profile(me, slug=None, show_name=False); employees.unpublish_profile(me)
    employees.sign_out(cookie)

:mod:`issuer.web.employee` (``/me``) calls these. A sign-in email (text and HTML from the mail
templates, :func:`issuer.mail.outbox.enqueue_sign_in`) is queued (the outbox, in the same
transaction as its link) only for an address that has at least one award of this issuer;
for any other address nothing is stored or sent, and the caller gives the same answer. Publishing
reuses :meth:`issuer.public_service.PublicService.publish_profile` without touching the per-badge
name choices (HR's ``microcred profile publish --show-name`` sets them all, as it always did).
Signing in with the company's identity provider (:meth:`EmployeeService.sign_in_verified`, called
by :mod:`issuer.web.employee.sign_in` for :mod:`issuer.web.oidc`) opens the same session a link
opens, for the address the provider has verified, under the same rules (same lifetime, ended by
signing out, checked against the awards on every request). Neither way writes an audit entry:
the session row itself (times only) is the record, and it is in the person's data export. An
address that holds no badge here is refused (None), not given an empty session: a session is
only ever for an address awards were issued to (:meth:`EmployeeService.signed_in` checks that on
every request, so an empty one would end at once), and saying "no badges for this address" tells
the person only what the email-link flow tells them (no email arrives); they have just proven to
the provider that the address is theirs, so nobody learns anything about someone else.
Every time is the runtime's clock. Errors: :class:`~issuer.errors.InvalidInput` (not an email
address), :class:`~issuer.errors.NotFound` (not their badge), :class:`~issuer.errors.NotAllowed`
(a revoked or suspended badge), those of publishing (a bad or taken profile address).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, exists, or_, select, update
from sqlalchemy.orm import Session

from issuer.db.models import Award, Issuer, OutboxMessage, Recipient
from issuer.db.models_employee import AwardPrivacy
from issuer.employees.access import (
    LINK_MINUTES,
    SIGN_IN_KEY,
    consume_link,
    create_link,
    end_session,
    link_email,
    open_session,
    session_email,
    token_hash,
)
from issuer.employees.badges import MyBadge, my_badge, sort_badges
from issuer.employees.privacy import actor_for, own_award, set_badge_name, set_profile_listing
from issuer.errors import Conflict, InvalidInput
from issuer.mail.outbox import Delivery, deliver_pending, enqueue_sign_in
from issuer.public_service import PublicService
from issuer.runtime import Runtime
from issuer.sharing import SharingError
from issuer.tasks.names import QueueKind
from verifier.recipient import normalize_identity

SIGN_IN_PATH = "/me/sign-in/"          # + token: the page that signs in (issuer.web.employee)
MAX_EMAIL = 320
FORGOTTEN = "(This email held a one-time sign-in link. It was removed once the email was sent or expired.)"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Employee:
    """Who is signed in: the address their awards were issued to (normalised), and who that is."""

    email: str
    recipient_id: str
    name: str | None


@dataclass(frozen=True)
class MyBadges:
    """What "My badges" shows: the public profile (when published) and every award."""

    employee: Employee
    profile_url: str | None              # None: not published
    profile_slug: str | None
    name_on_profile: bool
    badges: list[MyBadge]


def normalised_address(email: str) -> str:
    """The address as awards store it; InvalidInput unless it looks like one."""
    address = normalize_identity(email or "")
    local, _, domain = address.rpartition("@")
    if not local or "." not in domain or len(address) > MAX_EMAIL or any(c.isspace() for c in address):
        raise InvalidInput("Enter the email address your badges were sent to (like name@example.com).",
                           code="invalid_email", field="email")
    return address


def _recipient(session: Session, issuer: Issuer, email: str) -> Recipient | None:
    """The recipient ``email`` of this issuer, if they hold at least one award."""
    return session.scalars(select(Recipient).where(
        Recipient.issuer_id == issuer.id, Recipient.email == email,
        exists().where(Award.recipient_id == Recipient.id))).one_or_none()


class EmployeeService:
    """Sign-in by one-time link, the employee's badges and their privacy choices."""

    def __init__(self, runtime: Runtime, public: PublicService) -> None:
        self.runtime = runtime
        self.public = public

    # ------------------------------------------------------------ signing in

    def request_sign_in(self, email: str) -> None:
        """Queue a sign-in link for ``email`` if it holds badges here (and has not asked too often)."""
        address = normalised_address(email)
        now = self.runtime.now()
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            recipient = _recipient(session, issuer, address)
            token = create_link(session, address, now) if recipient is not None else None
            if recipient is None or token is None:
                return
            enqueue_sign_in(session, self.runtime.settings, to_address=recipient.email, to_name=recipient.name,
                            link=self.runtime.settings.url(SIGN_IN_PATH + token), minutes=LINK_MINUTES, now=now,
                            key=SIGN_IN_KEY + token_hash(token))

    def deliver_mail(self) -> Delivery | None:
        """Send what is due now (by the runtime's clock); never raises: what fails stays queued for a retry,
        and None means delivery could not start (logged), or that the workers send them (PostgreSQL queue)."""
        if self.runtime.queue.kind is not QueueKind.INLINE:
            return self.runtime.mail_after_commit()
        try:
            delivery = deliver_pending(self.runtime.sessions, self.runtime.settings, transport=self.runtime.transport,
                                       now=self.runtime.now())
        except Exception:   # noqa: BLE001 - the link is stored and queued; mail trouble must not become an error
            log.warning("sign-in emails stay queued: delivery could not start", exc_info=True)
            return None
        self.forget_sent_links()
        return delivery

    def forget_sent_links(self) -> int:
        """Blank the text and HTML of sign-in emails that were sent or whose link has expired; how many.

        The outbox keeps a message's parts until it is sent, so a sign-in link lies in the database in
        clear for that short while; afterwards only the token's hash (the outbox key) remains."""
        now = self.runtime.now()
        with self.runtime.transaction() as session:
            result = session.execute(update(OutboxMessage).where(
                OutboxMessage.key.like(f"{SIGN_IN_KEY}%"),
                or_(OutboxMessage.body != FORGOTTEN, OutboxMessage.html.is_not(None)),
                or_(OutboxMessage.sent_at.is_not(None),
                    OutboxMessage.created_at <= now - timedelta(minutes=LINK_MINUTES)),
            ).values(body=FORGOTTEN, html=None))
            return cast("CursorResult[Any]", result).rowcount

    def link_works(self, token: str) -> bool:
        """Whether the link would sign in now (it is not used up by asking)."""
        with self.runtime.reading() as session:
            return link_email(session, token, self.runtime.now()) is not None

    def sign_in(self, token: str) -> str | None:
        """Use the link: a new session's token for the cookie, or None (unknown, used or expired)."""
        now = self.runtime.now()
        with self.runtime.transaction() as session:
            email = consume_link(session, token, now)
            return open_session(session, email, now) if email is not None else None

    def sign_in_verified(self, email: str) -> str | None:
        """A new session's token for an address the identity provider has verified, or None when it
        holds no badge here (or is no email address at all)."""
        try:
            address = normalised_address(email)
        except InvalidInput:
            return None
        now = self.runtime.now()
        with self.runtime.transaction() as session:
            if _recipient(session, self.runtime.load_issuer(session), address) is None:
                return None
            return open_session(session, address, now)

    def signed_in(self, token: str | None) -> Employee | None:
        """The employee of a session token, while the session lasts and they still hold badges here."""
        with self.runtime.reading() as session:
            email = session_email(session, token, self.runtime.now())
            recipient = _recipient(session, self.runtime.load_issuer(session), email) if email else None
            return Employee(recipient.email, recipient.id, recipient.name) if recipient is not None else None

    def sign_out(self, token: str | None) -> None:
        with self.runtime.transaction() as session:
            end_session(session, token, self.runtime.now())

    # ------------------------------------------------------------ my badges

    def my_badges(self, employee: Employee) -> MyBadges:
        now, settings = self.runtime.now(), self.runtime.settings
        with self.runtime.reading() as session:
            recipient = session.get(Recipient, employee.recipient_id)
            query = select(Award, AwardPrivacy).outerjoin(AwardPrivacy, AwardPrivacy.award_id == Award.id)
            rows = session.execute(query.where(Award.recipient_id == employee.recipient_id))
            badges = sort_badges([my_badge(settings, award, choice, now) for award, choice in rows])
            slug = recipient.public_profile_slug if recipient is not None else None
            return MyBadges(employee, settings.url(f"/profiles/{slug}") if slug else None, slug,
                            bool(recipient and recipient.show_name), badges)

    # ------------------------------------------------------------ privacy choices

    def choose_badge_name(self, employee: Employee, award_id: str, show: bool) -> MyBadge:
        """Show or hide the employee's name on the public page of their badge ``award_id``."""
        now = self.runtime.now()
        with self.runtime.transaction() as session:
            award = own_award(session, self.runtime.load_issuer(session), employee.email, award_id)
            choice = set_badge_name(session, award, show, actor=actor_for(employee.recipient_id), now=now)
            return my_badge(self.runtime.settings, award, choice, now)

    def choose_profile_listing(self, employee: Employee, award_id: str, listed: bool) -> MyBadge:
        """List the badge ``award_id`` on the employee's public skill profile, or take it off."""
        now = self.runtime.now()
        with self.runtime.transaction() as session:
            award = own_award(session, self.runtime.load_issuer(session), employee.email, award_id)
            choice = set_profile_listing(session, award, listed, actor=actor_for(employee.recipient_id), now=now)
            return my_badge(self.runtime.settings, award, choice, now)

    def publish_profile(self, employee: Employee, *, slug: str | None, show_name: bool) -> str:
        """Publish (or update) the employee's skill profile; its address. ``slug`` None keeps or draws one."""
        try:
            recipient = self.public.publish_profile(employee.email, slug=slug, show_name=show_name,
                                                    actor=actor_for(employee.recipient_id), badge_pages=False)
        except SharingError:
            raise InvalidInput("A profile address is 3 to 64 lower-case letters, digits and hyphens, starting "
                               "with a letter or digit.", code="invalid_slug", field="slug") from None
        except Conflict:
            raise Conflict("That profile address is taken. Choose another, or leave it empty for a random one.",
                           code="duplicate", field="slug") from None
        return self.runtime.settings.url(f"/profiles/{recipient.public_profile_slug}")

    def unpublish_profile(self, employee: Employee) -> None:
        self.public.unpublish_profile(employee.email, actor=actor_for(employee.recipient_id), badge_pages=False)
