"""In a real browser (Chromium), at a phone's width (390 px) and a desktop's: the home page, issuing one
achievement to several people, the bulk dry-run table with a bad row, and the skills chart.

Each page: no script or CSP errors, no serious or critical accessibility problems (axe), nothing wider
than the screen. Screenshots go to ``test-artifacts/`` (``landing-*.png``, ``admin-*.png``).
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from issuer.db.models import Achievement, Award
from tests.admin_support import add_staff, browser_login, console_app, live_console
from tests.browser_fixtures import artifacts_dir, browser  # noqa: F401  (fixtures; one browser per module)

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SERIOUS = ("serious", "critical")
BAD_FILE = (b"email,name,achievement,awarded_date\r\n"
            b"ana@example.com,Ana Lopez,team-leadership,2026-01-15\r\n"
            b"ben@example.com,Ben Okafor,team-leadrship,2026-01-15\r\n"
            b"cho@example.com,Cho Park,coaching-feedback,2026-01-15\r\n")


@pytest.fixture()
def site(db_url, tmp_path):
    def factory(base_url):
        app = console_app(tmp_path, db_url, base_url, demo=True)
        add_staff(app, "hana", "issuer", name="Hana HR")
        return app

    with live_console(factory) as (app, base_url):
        yield app, base_url


class Screen:
    """A page at one screen size that records script errors and checks what every page must be."""

    def __init__(self, browser, screen: str, artifacts) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.context = browser.new_context(viewport=SCREENS[screen], accept_downloads=True)
        self.page = self.context.new_page()
        self.screen, self.artifacts, self.axe = screen, artifacts, Axe()
        self.errors: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def check(self, name: str) -> None:
        self.page.screenshot(path=str(self.artifacts / f"{name}-{self.screen}.png"), full_page=True)
        found = [(v["id"], v["impact"]) for v in self.axe.run(self.page).response["violations"]
                 if v["impact"] in SERIOUS]
        assert found == [], name
        overflow = self.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than the {self.screen} screen"
        assert self.errors == [], name

    def inside_screen(self, locator) -> None:
        box = locator.bounding_box()
        assert box is not None and box["width"] > 0, locator
        assert box["x"] >= 0 and box["x"] + box["width"] <= SCREENS[self.screen]["width"], (locator, box)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_home_page(site, browser, artifacts_dir, screen):  # noqa: F811
    app, base_url = site
    view = Screen(browser, screen, artifacts_dir)
    page = view.page
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", name="Example Corp People Team", level=1)).to_be_visible()
    for name in ("Check a badge", "My badges", "Staff sign-in"):
        link = page.get_by_role("link", name=name)
        expect(link).to_be_visible()
        view.inside_screen(link)
    view.check("landing")
    page.get_by_role("link", name="Check a badge").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.url.rstrip("/") == base_url + "/verify"
    page.go_back()
    page.get_by_role("link", name="Staff sign-in").click()
    expect(page.get_by_label("User name")).to_be_visible()
    view.context.close()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_issuing_to_several_people(site, browser, artifacts_dir, screen):  # noqa: F811
    app, base_url = site
    with app.extensions["microcred"].sessions() as session:
        achievement = session.scalar(select(Achievement).where(Achievement.slug == "team-leadership"))
        before = session.scalar(select(func.count()).select_from(Award))
    view = Screen(browser, screen, artifacts_dir)
    page = view.page
    browser_login(page, base_url, "hana")
    page.goto(f"{base_url}/admin/awards/new?achievement={achievement.id}")
    page.get_by_role("link", name="Issue to several people").click()
    expect(page.get_by_text(f"Achievement: {achievement.name}")).to_be_visible()
    page.get_by_label("People (one per line)").fill(
        "dana@example.com, Dana White\nEli Stone <eli@example.com>\nnot an address\nfay@example.com")
    page.get_by_label("Evidence URL").fill("https://lms.example.com/workshop/12")
    view.check("admin-issue-several-form")
    page.get_by_label("Issue to everyone else, and list the lines with problems").check()
    page.get_by_role("button", name="Issue to these people").click()
    expect(page.get_by_role("status")).to_contain_text("3 awards issued")
    rows = page.locator(".people-results tbody tr")
    expect(rows).to_have_count(4)
    refused = page.locator(".people-results tr.row-error td.reason")
    expect(refused).to_have_text("No email address on this line.")
    view.inside_screen(refused)
    expect(page.get_by_label("People (one per line)")).to_have_value("not an address")
    view.check("admin-issue-several-result")
    with app.extensions["microcred"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(Award)) == before + 3
    view.context.close()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_dry_run_table_shows_the_reason_and_the_valid_rows_can_be_issued(site, browser, artifacts_dir,  # noqa: F811
                                                                            tmp_path, screen):
    app, base_url = site
    bad = tmp_path / "awards.csv"
    bad.write_bytes(BAD_FILE)
    view = Screen(browser, screen, artifacts_dir)
    page = view.page
    browser_login(page, base_url, "hana")
    page.goto(base_url + "/admin/bulk")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and check").click()
    reason = page.locator("tr.row-error td.reason")
    expect(reason).to_have_text("There is no achievement 'team-leadrship'.")
    view.inside_screen(reason)                          # on a phone too: the row is a card, its reason on screen
    view.check("admin-bulk-dry-run")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the rows with problems (CSV)").click()
    assert info.value.suggested_filename.startswith("bulk-rejected-")
    page.get_by_role("button", name="Issue the 2 valid rows").click()
    expect(page.get_by_text("1 row with problems was not issued")).to_be_visible(timeout=120_000)
    view.check("admin-bulk-valid-rows-done")
    view.context.close()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_skills_chart_fits_the_screen_with_every_count_visible(site, browser, artifacts_dir, screen):  # noqa: F811
    app, base_url = site
    view = Screen(browser, screen, artifacts_dir)
    page = view.page
    browser_login(page, base_url, "hana")
    page.goto(base_url + "/admin/skills")
    figure = page.locator("figure.chart-figure").first
    shown, hidden = ("chart-narrow", "chart-wide") if screen == "phone" else ("chart-wide", "chart-narrow")
    chart = figure.locator(f"svg.{shown}")
    expect(chart).to_be_visible()
    expect(figure.locator(f"svg.{hidden}")).to_be_hidden()
    box = figure.bounding_box()
    values = chart.locator("text.value")
    assert values.count() > 0
    for index in range(values.count()):                 # every count inside the box, none scrolled away
        value = values.nth(index).bounding_box()
        assert value["x"] + value["width"] <= box["x"] + box["width"] + 0.5, (index, value, box)
        assert value["height"] >= 10                   # the text is not scaled down to illegible
    assert figure.evaluate("f => f.scrollWidth - f.clientWidth") <= 0
    view.check("admin-dashboard-chart")
    view.context.close()
