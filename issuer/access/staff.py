"""Staff accounts of the web console: create, check a password, change, disable.

Passwords are hashed with werkzeug's scrypt (salted, memory-hard); only the hash is stored.

Wrong passwords lock **one account for one client address**: after :data:`MAX_FAILED_LOGINS`
failures in a row from an address, that account refuses sign-ins from that address for
:data:`LOCK_MINUTES` minutes (:class:`SignInGuard`). Locking the account itself, for everyone,
would let anyone who knows a user name lock its owner out from anywhere; slowing every
attempt down instead would hold a server worker per attempt, which is the same denial of
service by other means. Per (account, address) an attacker gets five guesses per address per
quarter-hour against passwords of 12 characters or more hashed with scrypt (the console also
limits sign-in attempts per address), while the owner, from their own address, still gets in.
The counts are kept in the server process's memory, like the request limits, unless a shared
limits store is configured: then :mod:`issuer.access.shared_guard` keeps them there, one lock
for all app servers (the ``failed_logins`` / ``locked_until`` columns are no longer used for
locking and are only cleared on a successful sign-in). Either guard is a :class:`FailureGuard`.

The answer for a wrong password, an unknown user name and a locked (account, address) is the
same sentence (:data:`SIGN_IN_FAILED`) and costs the same: one scrypt computation and no
database write, so neither the text nor the timing tells which names exist or which are
locked. Pure functions of a session and a clock; no Flask (the console and ``microcred users``
reach them through :class:`issuer.access.service.AccessService`).

Errors: :class:`StaffError` (:class:`~issuer.errors.InvalidInput`) for an account that breaks
a rule and for a refused sign-in; a user name that is taken is a
:class:`~issuer.errors.Conflict` (``duplicate_user``).
"""
from __future__ import annotations

import functools
import hashlib
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from issuer.db.models import utcnow
from issuer.db.models_staff import STAFF_ROLES, StaffSession, StaffUser
from issuer.errors import Conflict, InvalidInput

__all__ = ["LOCK_MINUTES", "MAX_FAILED_LOGINS", "MIN_PASSWORD", "SESSION_MAX_HOURS", "SIGN_IN_FAILED", "STAFF_ROLES",
           "FailureGuard", "SignInGuard", "SignedIn", "StaffError", "authenticate", "check_password", "check_role",
           "check_username", "create_user", "end_session", "find_user", "normalize_username", "set_active",
           "set_password", "start_session", "still_valid"]

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
SESSION_MAX_HOURS = 12          # a sign-in ends this long after it began, however active
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,99}$")
HASH_METHOD = "scrypt"


@functools.cache
def _dummy_hash() -> str:
    """A hash to check wrong user names against, so they cost the same scrypt time as wrong passwords.

    Made once per process by :func:`prepare_sign_in` (the access service calls it when it is built, so
    even the first sign-in answers in the same time), not when the module is imported: every
    ``microcred`` command imports this module, ``microcred verify`` included."""
    return generate_password_hash("microcred-dummy-password", method=HASH_METHOD)


def prepare_sign_in() -> None:
    """Make the dummy hash now (see :func:`_dummy_hash`)."""
    _dummy_hash()


#: the one answer for a wrong password, an unknown user name and a locked account
SIGN_IN_FAILED = (f"The user name or password is wrong, or there were too many attempts from here: "
                  f"check them, or wait {LOCK_MINUTES} minutes and try again.")


class StaffError(InvalidInput):
    """An account that breaks a rule (name, password, role), or a refused sign-in."""

    default_code = "invalid_staff_input"


@dataclass(frozen=True)
class SignedIn:
    """Who signed in: what a session keeps (never the password or its hash)."""

    user_id: str
    username: str
    role: str
    session_version: int
    session_token: str = ""      # the random token of this sign-in (its hash is in staff_sessions)


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


def check_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME.match(name):
        raise StaffError("a user name is 2 to 100 characters: lower-case letters, digits and . _ @ + -",
                         code="invalid_username", field="username")
    return name


def check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise StaffError(f"a password needs at least {MIN_PASSWORD} characters", code="weak_password",
                         field="password")
    if len(password) > MAX_PASSWORD:
        raise StaffError(f"a password has at most {MAX_PASSWORD} characters", code="invalid_password",
                         field="password")
    if len(set(password)) < 5:
        raise StaffError("the password repeats too few characters; choose a longer, varied one",
                         code="weak_password", field="password")


def check_role(role: str) -> str:
    if role not in STAFF_ROLES:
        raise StaffError(f"the role must be one of {', '.join(STAFF_ROLES)}, not {role!r}", code="invalid_role",
                         field="role")
    return role


def find_user(session: Session, username: str) -> StaffUser | None:
    return session.scalars(select(StaffUser).where(StaffUser.username == normalize_username(username))).one_or_none()


def create_user(session: Session, username: str, password: str, role: str, *, name: str | None = None,
                now: datetime | None = None) -> StaffUser:
    """A new active account; :class:`StaffError` for a bad name, weak password or unknown role,
    :class:`~issuer.errors.Conflict` for a name that is taken."""
    username = check_username(username)
    check_password(password)
    check_role(role)
    if find_user(session, username) is not None:
        raise Conflict(f"a user named {username!r} already exists", code="duplicate_user", field="username")
    user = StaffUser(username=username, name=(name or "").strip() or None, role=role,
                     password_hash=generate_password_hash(password, method=HASH_METHOD), active=True,
                     session_version=1, failed_logins=0, created_at=now or utcnow())
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: StaffUser, password: str) -> None:
    """Change the password; every existing session of the account ends."""
    check_password(password)
    user.password_hash = generate_password_hash(password, method=HASH_METHOD)
    user.session_version += 1
    user.failed_logins, user.locked_until = 0, None


def set_active(session: Session, user: StaffUser, active: bool) -> None:
    """Disable (ending every session) or re-enable an account."""
    if user.active != active:
        user.active = active
        user.session_version += 1


class FailureGuard(Protocol):
    """Where failed sign-ins per (user name, client address) are counted and locks are kept."""

    def locked_until(self, username: str, client: str, now: datetime) -> datetime | None: ...

    def failed(self, username: str, client: str, now: datetime) -> None: ...

    def succeeded(self, username: str, client: str) -> None: ...


class SignInGuard:
    """Failed sign-ins per (user name, client address), in this process's memory.

    After ``max_failures`` failures in a row the pair is locked for ``lock``; a success clears
    it. At most ``max_entries`` pairs are kept (the oldest are forgotten first), so a flood of
    made-up names cannot grow the memory without bound. Thread-safe.
    """

    def __init__(self, max_failures: int = MAX_FAILED_LOGINS, lock: timedelta = timedelta(minutes=LOCK_MINUTES),
                 max_entries: int = 10_000) -> None:
        self.max_failures, self.lock, self.max_entries = max_failures, lock, max_entries
        self._entries: OrderedDict[tuple[str, str], tuple[int, datetime | None]] = OrderedDict()
        self._mutex = threading.Lock()

    def locked_until(self, username: str, client: str, now: datetime) -> datetime | None:
        """When the pair's lock ends, or None if it is not locked now."""
        with self._mutex:
            _, until = self._entries.get((normalize_username(username), client), (0, None))
        return until if until is not None and until > now else None

    def failed(self, username: str, client: str, now: datetime) -> None:
        key = (normalize_username(username), client)
        with self._mutex:
            count, until = self._entries.pop(key, (0, None))
            if until is not None and until <= now:
                count, until = 0, None
            count += 1
            if count >= self.max_failures:
                count, until = 0, now + self.lock
            self._entries[key] = (count, until)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def succeeded(self, username: str, client: str) -> None:
        with self._mutex:
            self._entries.pop((normalize_username(username), client), None)


def authenticate(session: Session, username: str, password: str, *, now: datetime | None = None,
                 client: str = "-", guard: FailureGuard | None = None) -> SignedIn:
    """The signed-in identity for a right user name and password; :class:`StaffError` otherwise.

    ``client``: the address the attempt comes from; ``guard``: the failures per (account,
    address) (the web console passes its own; without one nothing is counted, as for the
    command line). A wrong password, an unknown name and a locked (account, address) all raise
    the same :data:`SIGN_IN_FAILED` (code ``bad_credentials``) after one scrypt computation,
    and write nothing. A disabled account is told so only after the right password, so that
    tells an attacker nothing new.
    """
    now = now or utcnow()
    wrong = StaffError(SIGN_IN_FAILED, code="bad_credentials")
    if not isinstance(username, str) or len(username) > 100 or not isinstance(password, str) \
            or len(password) > MAX_PASSWORD:
        check_password_hash(_dummy_hash(), "")
        raise wrong
    if guard is not None and guard.locked_until(username, client, now) is not None:
        check_password_hash(_dummy_hash(), password)
        find_user(session, username)          # the same query as any other attempt
        raise wrong
    user = find_user(session, username)
    right = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    if user is None or not right:
        if guard is not None:
            guard.failed(username, client, now)
        raise wrong
    if not user.active:
        raise StaffError("this account is disabled; ask an administrator", code="disabled")
    if guard is not None:
        guard.succeeded(username, client)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    return SignedIn(user.id, user.username, user.role, user.session_version)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, signed_in: SignedIn, *, now: datetime | None = None) -> SignedIn:
    """Record a new sign-in; the identity to keep in the cookie, with its random token."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_token_hash(token), user_id=signed_in.user_id, created_at=now or utcnow()))
    session.flush()
    return replace(signed_in, session_token=token)


def end_session(session: Session, signed_in: SignedIn, *, now: datetime | None = None) -> None:
    """Sign out: the session's token is refused from now on (even from a copied cookie)."""
    row = session.get(StaffSession, _token_hash(signed_in.session_token)) if signed_in.session_token else None
    if row is not None and row.ended_at is None and row.user_id == signed_in.user_id:
        row.ended_at = now or utcnow()


def still_valid(session: Session, signed_in: SignedIn, *, now: datetime | None = None) -> StaffUser | None:
    """The account behind a session, or None when the session ended (signed out, older than
    :data:`SESSION_MAX_HOURS`) or the account was disabled or its password changed since."""
    row = session.get(StaffSession, _token_hash(signed_in.session_token)) if signed_in.session_token else None
    if row is None or row.ended_at is not None or row.user_id != signed_in.user_id:
        return None
    if (now or utcnow()) - row.created_at > timedelta(hours=SESSION_MAX_HOURS):
        return None
    user = session.get(StaffUser, signed_in.user_id)
    if user is None or not user.active or user.session_version != signed_in.session_version:
        return None
    return user
