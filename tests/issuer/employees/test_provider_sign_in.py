"""``EmployeeService.sign_in_verified``: the session an identity provider's sign-in opens, on SQLite and
PostgreSQL with the demo awards and a settable clock. The whole flow through a real provider is
tests/issuer/web/employee/test_me_oidc.py; here, the rules: the same session as a link's, for an
address with badges only, nothing stored otherwise.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from issuer.db.models_employee import EmployeeSession, EmployeeSignInLink
from issuer.employees.access import SESSION_HOURS, token_hash
from tests.issuer.employees.support import (  # noqa: F401 - app, clock, employees: shared fixtures
    ALEX,
    NOW,
    app,
    clock,
    employees,
)


def rows(app, model) -> list:
    with app.extensions["microcred"].sessions() as session:
        return list(session.scalars(select(model)))


def test_a_verified_address_with_badges_gets_the_session_a_link_would_give(app, employees, clock):
    cookie = employees.sign_in_verified("alex.morgan@example.com")
    assert cookie is not None
    me = employees.signed_in(cookie)
    assert (me.email, me.name) == (ALEX, "Alex Morgan")
    [session] = rows(app, EmployeeSession)
    assert session.token_hash == token_hash(cookie) and session.email == ALEX
    assert session.expires_at == NOW + timedelta(hours=SESSION_HOURS)
    assert rows(app, EmployeeSignInLink) == []                 # no link is made nor mailed
    employees.sign_out(cookie)
    assert employees.signed_in(cookie) is None
    clock.now = NOW + timedelta(hours=SESSION_HOURS)
    assert employees.signed_in(employees.sign_in_verified(ALEX)) is not None     # a new one, as often as needed


@pytest.mark.parametrize("email", ["nobody@example.com", "", "not an address", "alex.morgan@example.com.evil"])
def test_an_address_without_badges_or_no_address_gets_nothing(app, employees, email):
    assert employees.sign_in_verified(email) is None
    assert rows(app, EmployeeSession) == []
