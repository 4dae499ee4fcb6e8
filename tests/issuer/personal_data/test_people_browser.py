"""The console's People page in a real browser (Chromium), on a phone and a desktop screen.

HR finds Pat Doe, downloads their data, types the address again, ticks the box and erases them;
then Pat's badge page says "withdrawn". Each step: no script or CSP errors, no serious or critical
accessibility problems (axe), nothing wider than the screen. Screenshots:
``test-artifacts/admin-people-{find,found,erased}-{phone,desktop}.png`` and
``test-artifacts/badge-withdrawn-{phone,desktop}.png``.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.admin_support import add_staff, browser_login, console_app, live_console
from tests.browser_fixtures import artifacts_dir, browser  # noqa: F401  (fixtures; one browser per module)
from tests.issuer.personal_data.people_support import PAT, PAT_NAME, person

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SERIOUS = ("serious", "critical")


@pytest.fixture()
def site(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("MICROCRED_SMTP_HOST", raising=False)
    records = {}

    def factory(base_url):
        app = console_app(tmp_path, db_url, base_url, demo=True)
        add_staff(app, "ada", "admin", name="Ada Admin")
        records["pat"] = person(app)
        return app

    with live_console(factory) as (app, base_url):
        yield app, base_url, records["pat"]


@pytest.mark.parametrize("screen", list(SCREENS))
def test_hr_erases_a_person_from_the_people_page(site, browser, artifacts_dir, screen):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    app, base_url, pat = site
    context = browser.new_context(viewport=SCREENS[screen], accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    axe = Axe()
    found: dict[str, list] = {}

    def look(name: str) -> None:
        page.screenshot(path=str(artifacts_dir / f"{name}-{screen}.png"), full_page=True)
        found[name] = [(v["id"], v["impact"]) for v in axe.run(page).response["violations"] if v["impact"] in SERIOUS]
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than the {screen} screen"

    browser_login(page, base_url, "ada")
    page.get_by_role("link", name="People", exact=True).click()
    page.wait_for_url(f"{base_url}/admin/people")
    look("admin-people-find")
    page.get_by_label("Email address").fill(PAT)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("heading", name=f"What is held about {PAT}").wait_for()
    assert page.url == f"{base_url}/admin/people"                      # a POST: the address is in no URL
    assert PAT_NAME in page.inner_text("main")
    look("admin-people-found")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download their data (JSON)").click()
    assert download.value.suggested_filename == "personal-data.json"
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert [a["id"] for a in exported["awards"]] == pat.awards
    page.get_by_label("Type their email address again to confirm").fill(PAT)
    page.get_by_label("Yes, revoke their badges and erase their data").check()
    page.get_by_role("button", name="Erase this person").click()
    page.get_by_text("Erased: 3 badges revoked and withdrawn").wait_for()
    assert PAT not in page.content() and PAT_NAME not in page.content()
    look("admin-people-erased")
    response = page.goto(f"{base_url}/credentials/{pat.awards[0]}")
    assert response.status == 410
    page.get_by_role("heading", name="This badge was withdrawn").wait_for()
    assert PAT_NAME not in page.content() and "Team Leadership" not in page.content()
    look("badge-withdrawn")
    context.close()
    assert {name: v for name, v in found.items() if v} == {}
    gone = "Failed to load resource: the server responded with a status of 410 (GONE)"   # the badge page itself
    assert [p for p in problems if p != gone] == []
