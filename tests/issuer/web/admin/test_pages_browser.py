"""Every console page in a real browser, on a phone and a desktop screen: no script or CSP
errors, no serious or critical accessibility problems (axe), nothing wider than the screen
but tables and charts (which scroll in their own box). Screenshots go to ``test-artifacts/``.

The flows themselves (define, issue, bulk, revoke, dashboard, keys) are tested in the
``test_admin_*`` modules; this one looks at every page with the demo data in it.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from issuer.db.models import Achievement, Award
from tests.admin_support import add_staff, browser_login, console_app, live_console
from tests.browser_fixtures import artifacts_dir, browser  # noqa: F401  (fixtures; one browser per module)

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SERIOUS = ("serious", "critical")


@pytest.fixture()
def site(db_url, tmp_path):
    def factory(base_url):
        app = console_app(tmp_path, db_url, base_url, demo=True)
        add_staff(app, "ada", "admin", name="Ada Admin")
        return app

    with live_console(factory) as (app, base_url):
        yield app, base_url


def console_pages(app) -> dict[str, str]:
    with app.extensions["microcred"].sessions() as session:
        achievement = session.scalars(select(Achievement).order_by(Achievement.slug)).first()
        award = session.scalars(select(Award).order_by(Award.created_at)).first()
        return {
            "skills": "/admin/skills",
            "skills-role": "/admin/skills?skill=lead+a+team&skill=give+feedback",
            "achievements": "/admin/achievements",
            "achievement-new": "/admin/achievements/new",
            "achievement-edit": f"/admin/achievements/{achievement.id}/edit",
            "issue": f"/admin/awards/new?achievement={achievement.id}",
            "issue-several": f"/admin/awards/new/several?achievement={achievement.id}",
            "awards": "/admin/awards",
            "award": f"/admin/awards/{award.id}",
            "bulk": "/admin/bulk",
            "keys": "/admin/keys",
            "users": "/admin/users",
        }


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_console_page_is_clean_and_accessible(site, browser, artifacts_dir, screen):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    app, base_url = site
    context = browser.new_context(viewport=SCREENS[screen])
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    axe = Axe()
    page.goto(f"{base_url}/admin/login")
    found = {"login": [(v["id"], v["impact"]) for v in axe.run(page).response["violations"] if v["impact"] in SERIOUS]}
    browser_login(page, base_url, "ada")
    for name, path in console_pages(app).items():
        response = page.goto(base_url + path)
        assert response.status == 200, (name, response.status)
        page.screenshot(path=str(artifacts_dir / f"admin-page-{name}-{screen}.png"), full_page=True)
        found[name] = [(v["id"], v["impact"]) for v in axe.run(page).response["violations"] if v["impact"] in SERIOUS]
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than the {screen} screen"
    context.close()
    assert {name: v for name, v in found.items() if v} == {}
    assert problems == []          # no script errors and no CSP violations on any page
