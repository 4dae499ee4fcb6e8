"""Who may use the issuer: staff accounts, console sign-in sessions and API tokens.

    user = services.access.create_user("hana", password, "admin", name="Hana HR")
    signed_in = services.access.sign_in("hana", password, client="192.0.2.7")   # StaffError when refused
    services.access.check_session(signed_in)          # the account, or None once the session is over
    row, secret = services.access.create_token(scope="issue", name="LMS")
    services.access.verify_token(secret)               # a TokenHolder, or None

The rules are :mod:`issuer.access.staff` (passwords, roles, the per-address sign-in guard,
session tokens) and :mod:`issuer.access.tokens` (token format, scopes, hashes); this service
owns the transactions and the sign-in guard (per service layer, so per app: in this process, or
in the shared limits store when one is configured, :func:`issuer.access.shared_guard.sign_in_guard`).
Failed sign-ins count against the runtime's clock (a shared lock ends by the store's); a
session's age is measured by the wall clock (the console's pages may run on a test clock).
Accounts are named by user name (the CLI) or by id (the console).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.access.shared_guard import sign_in_guard
from issuer.access.staff import (
    FailureGuard,
    SignedIn,
    authenticate,
    create_user,
    end_session,
    find_user,
    normalize_username,
    prepare_sign_in,
    set_active,
    set_password,
    start_session,
    still_valid,
)
from issuer.access.tokens import create_token, list_tokens, revoke_token, verify_token
from issuer.db.models_api import ApiToken
from issuer.db.models_staff import StaffUser
from issuer.errors import Conflict, NotFound
from issuer.runtime import Runtime


@dataclass(frozen=True)
class TokenHolder:
    """Who a verified API token speaks for."""

    token_id: str
    name: str | None
    scope: str


class AccessService:
    """Staff accounts, console sign-in sessions and API tokens."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        # failed sign-ins per (account, client address): in this process, or shared by all app servers
        self.guard: FailureGuard = sign_in_guard(runtime.settings.ratelimit_storage_uri)
        prepare_sign_in()               # the first failed sign-in costs what every other one costs

    # ---- staff accounts

    def create_user(self, username: str, password: str, role: str, *, name: str | None = None) -> StaffUser:
        """A new active account (StaffError for a bad name, password or role; Conflict for a taken name)."""
        with self.runtime.transaction() as session:
            return create_user(session, username, password, role, name=name, now=self.runtime.now())

    def list_users(self) -> list[StaffUser]:
        """Every account, by user name."""
        with self.runtime.reading() as session:
            return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))

    def set_password(self, username: str, password: str) -> StaffUser:
        """A new password for ``username``; the account's open sessions end."""
        with self.runtime.transaction() as session:
            user = _by_name(session, username)
            set_password(session, user, password)
            return user

    def set_active(self, username: str, active: bool) -> StaffUser:
        """Enable or disable ``username`` (disabling ends its open sessions)."""
        with self.runtime.transaction() as session:
            user = _by_name(session, username)
            set_active(session, user, active)
            return user

    def set_active_by_id(self, user_id: str, active: bool, *, acting_user_id: str) -> StaffUser:
        """The console's enable/disable: the account by id; nobody disables their own account (Conflict)."""
        if user_id == acting_user_id and not active:
            raise Conflict("You cannot disable your own account.", code="own_account")
        with self.runtime.transaction() as session:
            user = session.get(StaffUser, user_id) if len(user_id) <= 36 else None
            if user is None:
                raise NotFound("No such account.", code="unknown_user")
            set_active(session, user, active)
            return user

    # ---- console sign-in

    def sign_in(self, username: str, password: str, *, client: str = "-") -> SignedIn:
        """Check the password (StaffError, the same for every refusal) and start a session.

        ``client`` is the address the attempt comes from: the guard locks (account, address)
        pairs after repeated failures. A failed attempt writes nothing.
        """
        with self.runtime.transaction() as session:
            identity = authenticate(session, username, password, now=self.runtime.now(), client=client,
                                    guard=self.guard)
            return start_session(session, identity)

    def check_session(self, signed_in: SignedIn) -> StaffUser | None:
        """The account behind a console session, or None when the session is over (signed out, too old,
        the account disabled or its password changed)."""
        with self.runtime.reading() as session:
            return still_valid(session, signed_in)

    def end_session(self, signed_in: SignedIn) -> None:
        """Sign out: the session's token is refused from now on."""
        with self.runtime.transaction() as session:
            end_session(session, signed_in)

    # ---- API tokens

    def create_token(self, *, scope: str, name: str | None = None) -> tuple[ApiToken, str]:
        """A new token: (its row, the secret ``mct_...`` string, shown once and kept nowhere)."""
        with self.runtime.transaction() as session:
            return create_token(session, scope=scope, name=name)

    def list_tokens(self) -> list[ApiToken]:
        with self.runtime.reading() as session:
            return list_tokens(session)

    def revoke_token(self, token_id: str) -> tuple[ApiToken, bool]:
        """(row, changed): revoke a token for good (NotFound for an unknown id; twice changes nothing)."""
        with self.runtime.transaction() as session:
            return revoke_token(session, token_id, now=self.runtime.now())

    def verify_token(self, secret: str | None) -> TokenHolder | None:
        """Who the bearer token ``secret`` speaks for, or None (unknown, malformed or revoked).
        Its ``last_used_at`` is written at most once a minute."""
        with self.runtime.transaction() as session:
            row = verify_token(session, secret, now=self.runtime.now())
            return TokenHolder(row.id, row.name, row.scope) if row is not None else None


def _by_name(session: Session, username: str) -> StaffUser:
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"no user named {normalize_username(username)!r}", code="unknown_user", field="username")
    return user
