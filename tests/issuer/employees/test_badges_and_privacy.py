"""My badges and the employee's privacy choices: states in plain words, what each state offers, and
the choices as the public pages (PublicService) and HR's ``microcred profile`` see them.

Real database (SQLite and PostgreSQL for the choices and the profile); the demo awards; the clock
is the app's injected one.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from issuer.awards.lifecycle import change_status, renew
from issuer.cli.share import profile as profile_command
from issuer.db.models import AuditEntry, Award
from issuer.employees.badges import EXPIRING_DAYS, BadgeState, badge_state
from issuer.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tests.issuer.employees.support import (  # noqa: F401 - app, clock, ids, services: shared fixtures
    ALEX,
    NOW,
    SOFIA,
    app,
    clock,
    ids,
    link_in,
    services,
    sign_in_mails,
)

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
LEADERSHIP, COACHING = (ALEX, "Team Leadership"), (ALEX, "Coaching and Feedback")


def signed_in(app, email: str = ALEX):
    employees = app.extensions["microcred"].use.employees
    employees.request_sign_in(email)
    return employees.signed_in(employees.sign_in(link_in(sign_in_mails(app, email)[-1])[1]))


def by_id(mine) -> dict:
    return {badge.award_id: badge for badge in mine.badges}


def name_shown(services, award_id: str) -> str | None:
    """The name the public badge page shows (pages.badge_view's rule: recipient.name when recipient.show_name)."""
    recipient = services.public.badge(award_id).award.recipient
    return recipient.name if recipient.show_name else None


# ------------------------------------------------------------------ states

def test_badge_states_follow_the_stored_state_and_the_clock():
    award = Award(state="active", valid_until=NOW + timedelta(days=EXPIRING_DAYS + 1))
    assert badge_state(award, NOW) is BadgeState.ACTIVE
    assert badge_state(award, NOW + timedelta(days=1)) is BadgeState.EXPIRING            # exactly 30 days left
    assert badge_state(award, award.valid_until - timedelta(seconds=1)) is BadgeState.EXPIRING
    assert badge_state(award, award.valid_until) is BadgeState.EXPIRED                 # not yet marked expired
    assert badge_state(Award(state="active", valid_until=None), NOW) is BadgeState.ACTIVE
    for stored, state in (("expired", BadgeState.EXPIRED), ("revoked", BadgeState.REVOKED),
                          ("suspended", BadgeState.SUSPENDED), ("superseded", BadgeState.SUPERSEDED)):
        assert badge_state(Award(state=stored, valid_until=NOW + timedelta(days=400)), NOW) is state
    assert [s for s in BadgeState if s.usable] == [BadgeState.ACTIVE, BadgeState.EXPIRING, BadgeState.EXPIRED]
    assert {s.label for s in BadgeState} == {"Active", "Expires soon", "Expired", "Suspended", "Revoked", "Renewed"}


@SQLITE_ONLY
def test_my_badges_lists_every_award_with_its_state_and_what_it_offers(app, services, ids, clock):
    me = signed_in(app)
    mine = services.employees.my_badges(me)
    assert {b.name for b in mine.badges} == {"Team Leadership", "Coaching and Feedback"}
    assert mine.profile_url is None and not mine.name_on_profile
    leadership = by_id(mine)[ids[LEADERSHIP]]
    assert leadership.state is BadgeState.ACTIVE and leadership.reason is None
    assert leadership.page_url == f"https://hr.example.com/credentials/{ids[LEADERSHIP]}"
    base = leadership.page_url
    assert [d.url for d in leadership.downloads] == [f"{base}/certificate.pdf", f"{base}/badge.png",
                                                     f"{base}/badge.svg", f"{base}/credential.json",
                                                     f"{base}/credential.jwt"]
    assert (leadership.show_name, leadership.on_profile) == (False, True)             # the defaults

    change_status(services.runtime.sessions, services.runtime.settings, ids[LEADERSHIP], "revoke",
                  reason="Issued by mistake", actor="test")
    renewed = renew(services.runtime.sessions, services.runtime.settings, ids[COACHING], actor="test", now=NOW)
    mine = services.employees.my_badges(me)
    assert len(mine.badges) == 3
    revoked, old, new = by_id(mine)[ids[LEADERSHIP]], by_id(mine)[ids[COACHING]], by_id(mine)[renewed.id]
    assert (revoked.state, revoked.reason, revoked.page_url, revoked.downloads) == \
        (BadgeState.REVOKED, "Issued by mistake", None, ())
    assert (old.state, old.downloads, old.page_url) == (BadgeState.SUPERSEDED, (), None)
    assert old.renewed_url == f"https://hr.example.com/credentials/{renewed.id}"
    assert new.state is BadgeState.ACTIVE and new.downloads
    assert [b.state for b in mine.badges] == [BadgeState.ACTIVE, BadgeState.SUPERSEDED, BadgeState.REVOKED]

    change_status(services.runtime.sessions, services.runtime.settings, renewed.id, "suspend",
                  reason="Under review", actor="test")
    suspended = by_id(services.employees.my_badges(me))[renewed.id]
    assert (suspended.state, suspended.reason, suspended.downloads) == (BadgeState.SUSPENDED, "Under review", ())

    change_status(services.runtime.sessions, services.runtime.settings, renewed.id, "unsuspend",
                  reason="Review done", actor="test")
    assert by_id(services.employees.my_badges(me))[renewed.id].reason is None       # only while it applies
    clock.now = renewed.valid_until - timedelta(days=10)
    assert by_id(services.employees.my_badges(me))[renewed.id].state is BadgeState.EXPIRING
    clock.now = renewed.valid_until
    expired = by_id(services.employees.my_badges(me))[renewed.id]
    assert expired.state is BadgeState.EXPIRED and expired.downloads and expired.page_url


# ------------------------------------------------------------------ choices

def test_the_name_shows_only_on_the_badges_the_employee_chose(app, services, ids):
    me = signed_in(app)
    assert name_shown(services, ids[LEADERSHIP]) is None and name_shown(services, ids[COACHING]) is None
    badge = services.employees.choose_badge_name(me, ids[LEADERSHIP], True)
    assert badge.show_name and badge.name == "Team Leadership"
    assert name_shown(services, ids[LEADERSHIP]) == "Alex Morgan"
    assert name_shown(services, ids[COACHING]) is None                                 # only that badge
    services.employees.choose_badge_name(me, ids[LEADERSHIP], False)
    assert name_shown(services, ids[LEADERSHIP]) is None
    services.employees.choose_badge_name(me, ids[LEADERSHIP], True)
    change_status(services.runtime.sessions, services.runtime.settings, ids[LEADERSHIP], "suspend",
                  reason="check", actor="test")
    assert name_shown(services, ids[LEADERSHIP]) is None                               # never on a withdrawn badge
    with pytest.raises(NotAllowed, match="cannot be shared"):
        services.employees.choose_badge_name(me, ids[LEADERSHIP], False)
    with app.extensions["microcred"].sessions() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "employee_badge_name")
                                       .order_by(AuditEntry.id)))
    assert [(e.award_id, e.details) for e in entries] == [(ids[LEADERSHIP], {"show_name": True}),
                                                        (ids[LEADERSHIP], {"show_name": False}),
                                                        (ids[LEADERSHIP], {"show_name": True})]
    assert {e.actor for e in entries} == {f"employee:{me.recipient_id}"} and entries[0].at == NOW
    assert all(ALEX not in str(e.details) and "Alex" not in e.actor for e in entries)


def test_choices_are_only_for_the_employees_own_badges(app, services, ids):
    me = signed_in(app)
    sofias = ids[(SOFIA, "Conflict Resolution")]
    for award_id in (sofias, "not-an-id", "0b5e7f5c-1c1e-4d7a-9a55-3f1d2a0b9c11", ids[LEADERSHIP] + "x"):
        with pytest.raises(NotFound, match="You have no such badge."):
            services.employees.choose_badge_name(me, award_id, True)
        with pytest.raises(NotFound):
            services.employees.choose_profile_listing(me, award_id, False)
    assert name_shown(services, sofias) is None


def test_the_profile_lists_only_the_badges_the_employee_keeps_on_it(app, services, ids):
    me = signed_in(app)
    url = services.employees.publish_profile(me, slug=None, show_name=False)
    slug = url.rsplit("/", 1)[1]
    shown = services.public.profile(slug)
    assert {a.id for a in shown.awards} == {ids[LEADERSHIP], ids[COACHING]} and not shown.recipient.show_name
    assert services.employees.choose_profile_listing(me, ids[COACHING], False).on_profile is False
    assert [a.id for a in services.public.profile(slug).awards] == [ids[LEADERSHIP]]
    services.employees.choose_profile_listing(me, ids[COACHING], True)
    assert len(services.public.profile(slug).awards) == 2
    mine = services.employees.my_badges(me)
    assert (mine.profile_url, mine.profile_slug, mine.name_on_profile) == (url, slug, False)
    # publishing again with the name keeps the address; the badge pages keep their own choices
    assert services.employees.publish_profile(me, slug=slug, show_name=True) == url
    assert services.public.profile(slug).recipient.show_name
    assert name_shown(services, ids[LEADERSHIP]) is None
    services.employees.unpublish_profile(me)
    with pytest.raises(NotFound):
        services.public.profile(slug)
    assert services.employees.my_badges(me).profile_url is None


def test_publishing_refuses_bad_or_taken_addresses_in_plain_words(app, services):
    me, sofia = signed_in(app), signed_in(app, SOFIA)
    services.employees.publish_profile(sofia, slug="sofia-l", show_name=True)
    with pytest.raises(InvalidInput, match="A profile address is 3 to 64 lower-case letters"):
        services.employees.publish_profile(me, slug="../admin", show_name=False)
    with pytest.raises(Conflict, match="That profile address is taken"):
        services.employees.publish_profile(me, slug="sofia-l", show_name=False)
    assert services.employees.my_badges(me).profile_url is None


def test_hr_profile_commands_still_set_the_name_on_every_badge_page(app, services, ids):
    public = services.public
    public.publish_profile(ALEX, slug="alex-m", show_name=True, actor="cli")           # --show-name
    assert name_shown(services, ids[LEADERSHIP]) == name_shown(services, ids[COACHING]) == "Alex Morgan"
    me = signed_in(app)
    services.employees.choose_badge_name(me, ids[COACHING], False)                      # the employee's own choice
    assert name_shown(services, ids[COACHING]) is None and name_shown(services, ids[LEADERSHIP]) == "Alex Morgan"
    public.unpublish_profile(ALEX, actor="cli")
    assert name_shown(services, ids[LEADERSHIP]) is None
    public.publish_profile(ALEX, slug="alex-m", actor="cli")                            # without --show-name
    assert name_shown(services, ids[LEADERSHIP]) is None and not public.profile("alex-m").recipient.show_name


@SQLITE_ONLY
def test_the_cli_profile_commands_keep_working(app, services, ids, monkeypatch):
    settings = services.runtime.settings
    for name, value in (("MICROCRED_INSTANCE", settings.instance), ("MICROCRED_KEYS", settings.keys_dir),
                        ("MICROCRED_BASE_URL", settings.base_url), ("DATABASE_URL", settings.database_url)):
        monkeypatch.setenv(name, str(value))
    result = CliRunner().invoke(profile_command, ["publish", ALEX, "--slug", "alex-m", "--show-name"])
    assert result.exit_code == 0, result.output
    assert name_shown(services, ids[COACHING]) == "Alex Morgan"
    me = signed_in(app)
    mine = services.employees.my_badges(me)
    assert mine.profile_slug == "alex-m" and mine.name_on_profile and all(b.show_name for b in mine.badges)
    result = CliRunner().invoke(profile_command, ["unpublish", ALEX])
    assert result.exit_code == 0, result.output
    assert services.employees.my_badges(me).profile_url is None and name_shown(services, ids[COACHING]) is None
