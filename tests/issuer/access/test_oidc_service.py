"""The staff half of OIDC sign-in on a real database (SQLite and PostgreSQL): a verified address
opens the account whose user name it is, with the console session a password gives; nothing else
does, and no account is ever created."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from issuer.access.oidc_service import OidcService
from issuer.access.oidc_settings import OidcSettings
from issuer.access.oidc_tokens import OidcRefused, VerifiedIdentity
from issuer.errors import NotFound
from tests.admin_support import Clock, add_staff, console_app

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def app(tmp_path, db_url):
    clock = Clock()
    clock.now = NOW
    app = console_app(tmp_path, db_url, clock=clock)
    add_staff(app, "hana@example.com", "admin", name="Hana HR")
    add_staff(app, "dora@example.com", "issuer")
    app.extensions["microcred"].use.access.set_active("dora@example.com", False)
    yield app
    app.extensions["microcred"].engine.dispose()


def service(app, settings: OidcSettings | None = None) -> OidcService:
    return OidcService(app.extensions["microcred"].use.runtime, settings)


def test_a_verified_address_opens_its_account_with_a_console_session(app):
    access = app.extensions["microcred"].use.access
    signed_in = service(app).staff_sign_in(VerifiedIdentity("sub-1", "hana@example.com"))
    assert (signed_in.username, signed_in.role) == ("hana@example.com", "admin") and signed_in.session_token
    user = access.check_session(signed_in)
    assert user is not None and user.last_login_at.replace(tzinfo=UTC) == NOW      # the runtime's clock
    access.end_session(signed_in)
    assert access.check_session(signed_in) is None


def test_an_unknown_address_is_refused_and_nothing_is_created(app):
    access = app.extensions["microcred"].use.access
    before = [u.username for u in access.list_users()]
    with pytest.raises(OidcRefused, match="There is no console account for stranger@example.com") as caught:
        service(app).staff_sign_in(VerifiedIdentity("sub-2", "stranger@example.com"))
    assert caught.value.code == "oidc_unknown_staff" and caught.value.http_status == 403
    assert [u.username for u in access.list_users()] == before


def test_a_disabled_account_is_refused(app):
    with pytest.raises(OidcRefused, match="disabled"):
        service(app).staff_sign_in(VerifiedIdentity("sub-3", "dora@example.com"))


def test_without_a_provider_the_flow_is_not_found(app):
    oidc = service(app)
    assert oidc.button() is None
    with pytest.raises(NotFound):
        oidc.start("staff")
    assert oidc.redirect_uri == "https://hr.example.com/oidc/callback"
    named = service(app, OidcSettings(issuer="https://login.example.com", client_id="c", display_name="Example SSO"))
    assert named.button().name == "Example SSO"
