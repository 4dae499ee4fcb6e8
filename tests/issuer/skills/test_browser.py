"""HR's skills journey in a real browser (Chromium), on a phone and a desktop screen: import a
framework's CSV, define an achievement by searching the catalogue as they type and picking a
skill, preview it with its Markdown rendered, save it. No script or CSP errors, no serious or
critical accessibility problems (axe), nothing wider than the screen. Screenshots:
``test-artifacts/admin-skills-*.png``."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.admin_support import add_staff, browser_login, console_app, live_console
from tests.browser_fixtures import artifacts_dir, browser  # noqa: F401  (fixtures; one browser per module)
from tests.issuer.skills.csv_samples import ESCO, ESCO_SQL, ESCO_TEAM

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SERIOUS = ("serious", "critical")


@pytest.fixture()
def site(db_url, tmp_path):
    def factory(base_url):
        app = console_app(tmp_path, db_url, base_url)
        add_staff(app, "hana", "issuer", name="Hana HR")
        return app

    with live_console(factory) as (app, base_url):
        yield app, base_url


@pytest.mark.parametrize("screen", list(SCREENS))
def test_import_a_framework_then_build_an_achievement_from_it(site, browser, artifacts_dir, screen):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    app, base_url = site
    context = browser.new_context(viewport=SCREENS[screen])
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    axe, found = Axe(), {}

    def check(name: str) -> None:
        page.screenshot(path=str(artifacts_dir / f"admin-skills-{name}-{screen}.png"), full_page=True)
        found[name] = [(v["id"], v["impact"]) for v in axe.run(page).response["violations"] if v["impact"] in SERIOUS]
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than the {screen} screen"

    browser_login(page, base_url, "hana")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Frameworks").click()
    expect(page.get_by_role("heading", name="Import skills")).to_be_visible()
    check("frameworks-empty")

    # 1. import ESCO's skills file into a new framework
    page.get_by_label("Skills file (CSV or tab-separated)").set_input_files(
        files=[{"name": "skills_en.csv", "mimeType": "text/csv", "buffer": ESCO.encode()}])
    page.get_by_label("New framework's name").fill("ESCO")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".notice-ok")).to_contain_text("ESCO: 3 skills added, 0 updated, 0 unchanged")
    expect(page.locator("table.frameworks tbody tr").first).to_contain_text("European Commission")
    check("frameworks")

    # 2. define an achievement: search as you type, pick a skill
    page.goto(f"{base_url}/admin/achievements/new")
    page.get_by_label("Slug").fill("sql")
    page.locator("#f-name").fill("SQL fundamentals")
    page.get_by_label("Description").fill("Writes **correct** SQL for reports.")
    page.get_by_label("Criteria narrative").fill("1. Passes the *practical* test\n2. Explains a join to a colleague")
    search = page.locator("#f-align-search-0")
    search.press_sequentially("sq", delay=50)
    hit = page.locator("#skill-results-0 .skill-hit", has_text="SQL")
    expect(hit).to_have_count(1)
    expect(page.locator("#skill-status-0")).to_have_text("1 skill found: pick one.")
    check("search")
    hit.click()
    expect(page.locator("#f-align-name-0")).to_have_value("SQL")
    expect(page.locator("#f-align-url-0")).to_have_value(ESCO_SQL)
    expect(page.locator("#f-align-framework-0 option:checked")).to_have_text("ESCO")
    expect(page.locator("#skill-status-0")).to_have_text("Picked SQL (ESCO).")
    expect(page.locator("#skill-results-0 .skill-hit")).to_have_count(0)
    # a second skill typed by hand, in the same framework
    page.locator("#f-align-framework-1").select_option(label="ESCO")
    page.locator("#f-align-name-1").fill("database design")
    page.locator("#f-align-url-1").fill("http://data.europa.eu/esco/skill/0a1b2c3d")

    # 3. preview: Markdown rendered
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.locator(".achievement-preview")
    expect(preview.locator(".markdown strong")).to_have_text("correct")
    expect(preview.locator(".markdown ol li")).to_have_count(2)
    expect(preview.locator(".markdown ol li em")).to_have_text("practical")
    expect(preview.locator(".skill-list li").first).to_have_text("SQL (ESCO)")
    check("preview")

    # 4. save
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".notice-ok")).to_contain_text("Achievement SQL fundamentals (sql) created.")
    check("achievements")
    context.close()
    saved = app.extensions["microcred"].use.achievements.get("sql")
    assert [(a["targetName"], a["targetFramework"]) for a in saved.alignments] == [("SQL", "ESCO"),
                                                                                   ("database design", "ESCO")]
    assert saved.alignments[0]["targetDescription"].startswith("The computer language SQL")
    assert {name: v for name, v in found.items() if v} == {}
    assert problems == []          # no script errors and no CSP violations


def test_without_javascript_find_and_pick_fill_the_row(site, browser, artifacts_dir):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    app, base_url = site
    app.extensions["microcred"].use.skills.import_csv(ESCO.encode(), framework="ESCO", actor="test")
    context = browser.new_context(viewport=SCREENS["phone"], java_script_enabled=False)
    page = context.new_page()
    browser_login(page, base_url, "hana")
    page.goto(f"{base_url}/admin/achievements/new")
    page.locator("#f-align-search-0").fill("team")
    page.get_by_role("button", name="Find skills for skill 1").click()
    expect(page.locator("#skill-status-0")).to_have_text("1 skill found: pick one.")
    page.screenshot(path=str(artifacts_dir / "admin-skills-nojs-found-phone.png"), full_page=True)
    axe_context = browser.new_context(viewport=SCREENS["phone"])     # axe itself needs script: same page, served again
    axe_context.add_cookies(context.cookies())
    axe_page = axe_context.new_page()
    axe_page.set_content(page.content(), wait_until="domcontentloaded")
    serious = [(v["id"], v["impact"]) for v in Axe().run(axe_page).response["violations"]
               if v["impact"] in SERIOUS]
    axe_context.close()
    page.get_by_role("button", name="work in teams").click()
    expect(page.locator("#f-align-name-0")).to_have_value("work in teams")
    expect(page.locator("#f-align-url-0")).to_have_value(ESCO_TEAM)
    expect(page.locator("#f-align-framework-0 option:checked")).to_have_text("ESCO")
    context.close()
    assert serious == []


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_demo_frameworks_are_frameworks_of_the_catalogue(browser, db_url, tmp_path, artifacts_dir, screen):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    def factory(base_url):
        app = console_app(tmp_path, db_url, base_url, demo=True)
        add_staff(app, "hana", "issuer")
        return app

    with live_console(factory) as (_app, base_url):
        context = browser.new_context(viewport=SCREENS[screen])
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        browser_login(page, base_url, "hana")
        page.goto(f"{base_url}/admin/frameworks")
        # the demo's achievements name their frameworks through the catalogue: nothing to adopt
        expect(page.locator("table.frameworks tbody tr")).to_have_count(2)
        expect(page.get_by_role("button", name="Add them as frameworks")).to_have_count(0)
        page.screenshot(path=str(artifacts_dir / f"admin-skills-frameworks-demo-{screen}.png"), full_page=True)
        serious = [(v["id"], v["impact"]) for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS]
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        context.close()
    assert serious == [] and overflow <= 0 and problems == []
