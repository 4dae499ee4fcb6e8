"""The employee's privacy choices follow a badge when HR renews or re-issues it: the public pages
of the new award show what the employee chose for the old one (and nothing when no choice was made).

Real SQLite and PostgreSQL databases, the demo awards, the app's injected clock.
"""
from __future__ import annotations

from issuer.awards.issuance import IssuerContext
from issuer.awards.lifecycle import reissue, renew
from issuer.db.models import Award, Issuer
from tests.issuer.employees.support import (  # noqa: F401 - app, clock, ids, services: shared fixtures
    ALEX,
    NOW,
    app,
    clock,
    ids,
    link_in,
    services,
    sign_in_mails,
)

LEADERSHIP, COACHING = (ALEX, "Team Leadership"), (ALEX, "Coaching and Feedback")


def _signed_in(app):
    employees = app.extensions["microcred"].use.employees
    employees.request_sign_in(ALEX)
    return employees.signed_in(employees.sign_in(link_in(sign_in_mails(app, ALEX)[-1])[1]))


def _public(services, me, award_id: str) -> tuple[str | None, bool]:
    """(the name the badge page shows, whether the award is listed on the holder's profile)."""
    recipient = services.public.badge(award_id).award.recipient
    return (recipient.name if recipient.show_name else None,
            award_id in {b.award_id for b in services.employees.my_badges(me).badges if b.on_profile})


def test_renewal_and_reissue_keep_the_employees_choices(app, services, ids):
    me = _signed_in(app)
    services.employees.choose_badge_name(me, ids[LEADERSHIP], True)
    services.employees.choose_profile_listing(me, ids[LEADERSHIP], False)
    assert _public(services, me, ids[LEADERSHIP]) == ("Alex Morgan", False)

    renewed = renew(services.runtime.sessions, services.runtime.settings, ids[LEADERSHIP], actor="test", now=NOW)
    assert _public(services, me, renewed.id) == ("Alex Morgan", False)

    state = app.extensions["microcred"]
    with state.sessions.begin() as session:
        old = session.get(Award, renewed.id)
        issuer = session.get(Issuer, old.issuer_id)
        again = reissue(session, IssuerContext.load(session, state.settings, issuer), old, actor="test",
                        reason="new key", now=NOW)
        again_id = again.id
    assert again_id != renewed.id
    assert _public(services, me, again_id) == ("Alex Morgan", False)

    # a badge the employee made no choice for keeps the defaults: name hidden, on the profile
    plain = renew(services.runtime.sessions, services.runtime.settings, ids[COACHING], actor="test", now=NOW)
    assert _public(services, me, plain.id) == (None, True)
