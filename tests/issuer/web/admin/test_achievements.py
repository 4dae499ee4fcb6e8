"""The console's achievement pages: list, create, edit, preview; one flow in a real browser.

Flask test client against a real database (SQLite, and PostgreSQL for what is stored); the
rules are those of issuer.achievements.rules, shared with the API and the CLI.
"""
from __future__ import annotations

import base64
import io
import json
import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award
from issuer.db.models import Achievement, AuditEntry
from issuer.identity import load_issuer
from issuer.images import MAX_IMAGE_BYTES
from issuer.skills.catalogue import FrameworkFields
from tests.admin_support import Console, add_staff, browser_login, console_app, live_console, page_text
from tests.browser_fixtures import artifacts_dir, browser  # noqa: F401  (fixtures; one browser per module)
from tests.issuer.skills.csv_samples import ESCO as ESCO_CSV
from tests.issuer.skills.csv_samples import ESCO_TEAM

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
NEW = "/admin/achievements/new"
ESCO_SQL = "http://data.europa.eu/esco/skill/598de5b0-5b58-4ea7-8058-a4bc4d18c742"
CLEAN_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>'
SCRIPT_SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def png_bytes(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(out, format="PNG")
    return out.getvalue()


def form(**changes) -> dict:
    """A complete, valid new-achievement form (one skill row, one rubric row), with changes."""
    data = {"action": "save", "slug": "sql", "name": "SQL fundamentals", "description": "Writes correct SQL.",
            "criteria_narrative": "Passed a supervised practical.", "criteria_url": "", "achievement_type": "Competency",
            "validity_months": "24", "tags": "data, sql",
            "align_framework": ["ESCO", ""], "align_name": ["SQL", ""], "align_url": [ESCO_SQL, ""],
            "align_code": ["S5.6.1", ""],
            "rd_id": [""], "rd_name": ["Practical"], "rd_type": ["RubricCriterionLevel"],
            "rd_levels": ["Novice\nCompetent\nExpert"]}
    data.update(changes)
    return data


def upload(data: bytes, name: str) -> tuple:
    return (io.BytesIO(data), name)


@pytest.fixture()
def app(db_url, tmp_path):
    app = console_app(tmp_path, db_url)
    add_staff(app, "ada", "admin")
    add_staff(app, "ike", "issuer")
    yield app
    app.extensions["microcred"].engine.dispose()


@pytest.fixture()
def hr(app) -> Console:
    return Console(app).login("ike")


def post(hr: Console, path: str, data: dict):
    return hr.post(path, data, token_from="/admin/achievements", content_type="multipart/form-data")


def achievements(app) -> list[Achievement]:
    with app.extensions["microcred"].sessions() as session:
        return list(session.scalars(select(Achievement).order_by(Achievement.slug)))


def audit(app) -> list[AuditEntry]:
    with app.extensions["microcred"].sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action.like("%_achievement"))
                                    .order_by(AuditEntry.id)))


def field_error(response, field: str) -> str:
    match = re.search(rf'<p class="field-error[^"]*" id="e-{re.escape(field)}">(.*?)</p>',
                      response.get_data(as_text=True), re.S)
    assert match, f"no error shown beside {field}: {page_text(response)[:600]}"
    return match.group(1)


# ------------------------------------------------------------------ creating

def test_an_issuer_creates_an_achievement_with_skills_rubric_and_png(app, hr):
    image = png_bytes()
    response = post(hr, NEW, form(image=upload(image, "badge.png")))
    assert response.status_code == 303, page_text(response)
    [saved] = achievements(app)
    assert saved.slug == "sql" and saved.name == "SQL fundamentals" and saved.validity_months == 24
    assert saved.achievement_type == "Competency" and saved.tags == ["data", "sql"]
    assert saved.alignments == [{"targetName": "SQL", "targetUrl": ESCO_SQL, "targetFramework": "ESCO",
                                 "targetCode": "S5.6.1"}]
    [rubric] = saved.result_descriptions
    assert rubric["name"] == "Practical" and rubric["resultType"] == "RubricCriterionLevel"
    assert rubric["id"].startswith("urn:uuid:")
    assert [level["name"] for level in rubric["rubricCriterionLevel"]] == ["Novice", "Competent", "Expert"]
    assert saved.image == "data:image/png;base64," + base64.b64encode(image).decode("ascii")
    [entry] = audit(app)
    assert (entry.actor, entry.action, entry.award_id) == ("staff:ike", "create_achievement", None)
    assert entry.details == {"achievement": saved.id, "slug": "sql"}
    listing = hr.get(response.headers["Location"])
    text = page_text(listing)
    assert "Achievement SQL fundamentals (sql) created." in text
    assert re.search(r"SQL fundamentals sql SQL Valid for 24 months 0 Edit", text)
    assert f'src="{saved.image}"' in listing.get_data(as_text=True)
    assert f"/admin/achievements/{saved.id}/edit" in listing.get_data(as_text=True)


@SQLITE_ONLY
def test_without_an_image_the_generated_art_is_shown_and_nothing_is_stored(app, hr):
    assert post(hr, NEW, form(validity_months="")).status_code == 303
    [saved] = achievements(app)
    assert saved.image is None and saved.validity_months is None
    listing = hr.get("/admin/achievements").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in listing and "Never expires" in listing


@SQLITE_ONLY
def test_an_svg_with_a_script_is_refused_and_a_clean_svg_accepted(app, hr):
    response = post(hr, NEW, form(image=upload(SCRIPT_SVG, "badge.svg")))
    assert response.status_code == 422
    assert "script" in field_error(response, "image")
    assert achievements(app) == []
    assert post(hr, NEW, form(image=upload(CLEAN_SVG, "badge.svg"))).status_code == 303
    assert base64.b64decode(achievements(app)[0].image.split(",", 1)[1]) == CLEAN_SVG


@SQLITE_ONLY
def test_an_oversized_or_foreign_image_is_refused(app, hr):
    big = png_bytes() + b"\0" * MAX_IMAGE_BYTES
    response = post(hr, NEW, form(image=upload(big, "big.png")))
    assert response.status_code == 422 and "larger than 512 KiB" in field_error(response, "image")
    response = post(hr, NEW, form(image=upload(b"GIF89a....", "x.gif")))
    assert response.status_code == 422 and "PNG or SVG" in field_error(response, "image")
    assert achievements(app) == []


@pytest.mark.parametrize("changes,field,message", [
    ({"criteria_url": "ftp://example.com/criteria", "criteria_narrative": ""}, "criteria_url", "http(s) URL"),
    ({"criteria_narrative": "", "criteria_url": ""}, "criteria_narrative", "needs criteria"),
    ({"align_url": ["javascript:alert(1)", ""]}, "align-0", "must be an http(s) URL"),
    ({"align_name": ["", ""]}, "align-0", "skill name"),
    ({"slug": "Not A Slug"}, "slug", "lower-case"),
    ({"validity_months": "two years"}, "validity_months", "whole number of months"),
    ({"validity_months": "601"}, "validity_months", "between 1 and 600"),
    ({"rd_id": ["not a uri"]}, "rd-0", "must be a URI"),
    ({"rd_type": [""]}, "rd-0", "result type"),
])
def test_bad_input_is_shown_beside_its_field_and_nothing_is_saved(app, hr, changes, field, message):
    response = post(hr, NEW, form(**changes))
    assert response.status_code == 422
    assert message in field_error(response, field)
    assert "Please fix" in page_text(response)
    assert achievements(app) == [] and audit(app) == []
    assert 'value="SQL fundamentals"' in response.get_data(as_text=True)     # what was typed stays


@SQLITE_ONLY
def test_several_problems_are_listed_at_once(app, hr):
    response = post(hr, NEW, form(name="", description="", criteria_narrative=""))
    assert response.status_code == 422 and "Please fix 3 problems" in page_text(response)
    for field in ("name", "description", "criteria_narrative"):
        field_error(response, field)


def test_a_duplicate_slug_is_refused_by_the_slug_field(app, hr):
    assert post(hr, NEW, form()).status_code == 303
    response = post(hr, NEW, form(name="Another"))
    assert response.status_code == 422
    assert "already exists" in field_error(response, "slug")
    assert [a.name for a in achievements(app)] == ["SQL fundamentals"] and len(audit(app)) == 1


@SQLITE_ONLY
def test_the_dry_run_refuses_what_could_not_be_issued(app, hr):
    response = post(hr, NEW, form(achievement_type="ext:"))
    assert response.status_code == 422 and "achievement type" in field_error(response, "achievement_type")
    assert achievements(app) == []


# ------------------------------------------------------------------ editing

def test_editing_keeps_the_slug_and_the_image_and_is_audited(app, hr):
    image = png_bytes()
    post(hr, NEW, form(image=upload(image, "badge.png")))
    [before] = achievements(app)
    edit = f"/admin/achievements/{before.id}/edit"
    page = hr.get(edit)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="slug"' not in html and "<code>sql</code>" in html and 'value="Practical"' in html
    assert "Novice\nCompetent\nExpert" in html
    response = post(hr, edit, form(slug="renamed", name="SQL basics", rd_id=[before.result_descriptions[0]["id"]]))
    assert response.status_code == 303, page_text(response)
    [after] = achievements(app)
    assert (after.id, after.slug, after.name) == (before.id, "sql", "SQL basics")
    assert after.image == before.image
    assert after.result_descriptions[0]["rubricCriterionLevel"] == before.result_descriptions[0]["rubricCriterionLevel"]
    assert [e.action for e in audit(app)] == ["create_achievement", "edit_achievement"]
    assert audit(app)[1].details == {"achievement": before.id, "slug": "sql"}
    assert post(hr, edit, form(remove_image="yes")).status_code == 303
    assert achievements(app)[0].image is None


@SQLITE_ONLY
def test_an_unknown_achievement_is_404(hr):
    assert hr.get("/admin/achievements/00000000-0000-4000-8000-000000000000/edit").status_code == 404


def test_a_credential_issued_after_an_edit_carries_the_new_alignment(app, hr):
    post(hr, NEW, form())
    [saved] = achievements(app)
    new_skill = "https://example.com/skills/query-tuning"
    response = post(hr, f"/admin/achievements/{saved.id}/edit", form(
        align_framework=["ESCO", "Example skills", ""], align_name=["SQL", "Query tuning", ""],
        align_url=[ESCO_SQL, new_skill, ""], align_code=["S5.6.1", "", ""]))
    assert response.status_code == 303, page_text(response)
    state = app.extensions["microcred"]
    with state.sessions.begin() as session:
        issuer = load_issuer(session, state.settings)
        award, _ = issue_award(session, IssuerContext.load(session, state.settings, issuer),
                               AwardRequest(achievement="sql", email="alex@example.com"), actor="test")
        credential = json.loads(award.credential)
    alignment = credential["credentialSubject"]["achievement"]["alignment"]
    assert [(a["targetName"], a["targetUrl"]) for a in alignment] == [("SQL", ESCO_SQL), ("Query tuning", new_skill)]
    assert alignment[1]["targetFramework"] == "Example skills"
    listing = page_text(hr.get("/admin/achievements"))
    assert "SQL Query tuning Valid for 24 months 1 Edit" in listing


# ------------------------------------------------------------------ preview, rows, frameworks

@SQLITE_ONLY
def test_preview_shows_the_badge_and_saves_nothing_then_save_keeps_the_upload(app, hr):
    image = png_bytes()
    response = post(hr, NEW, form(action="preview", image=upload(image, "badge.png")))
    assert response.status_code == 200
    text = page_text(response)
    assert "Preview (not saved yet)" in text
    assert re.search(r"SQL fundamentals Competency Writes correct SQL\. How it is earned Passed a supervised "
                     r"practical\. Skills SQL \(ESCO S5\.6\.1\) Valid for 24 months", text)
    data_uri = "data:image/png;base64," + base64.b64encode(image).decode("ascii")
    html = response.get_data(as_text=True)
    assert f'<input type="hidden" name="image_data" value="{data_uri}">' in html
    assert achievements(app) == [] and audit(app) == []
    assert post(hr, NEW, form(image_data=data_uri)).status_code == 303
    assert achievements(app)[0].image == data_uri


@SQLITE_ONLY
def test_preview_without_image_shows_the_generated_art(app, hr):
    response = post(hr, NEW, form(action="preview"))
    assert re.search(r'<img src="data:image/svg\+xml;base64,[^"]+" alt="Badge image of SQL fundamentals"',
                     response.get_data(as_text=True))
    assert achievements(app) == []


@SQLITE_ONLY
def test_more_rows_adds_empty_rows_and_keeps_what_was_typed(app, hr):
    page = hr.get(NEW).get_data(as_text=True)
    assert page.count('name="align_name"') == 3 and page.count('name="rd_name"') == 1
    response = post(hr, NEW, form(action="more_alignments"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.count('name="align_name"') == 1 + 3 + 3
    assert 'value="S5.6.1"' in html and achievements(app) == []


@SQLITE_ONLY
def test_the_framework_picker_offers_the_issuers_frameworks_and_stores_their_names(app, hr):
    skills = app.extensions["microcred"].use.skills
    esco = skills.create_framework(FrameworkFields("ESCO", "European Commission"), actor="t")
    html = hr.get(NEW).get_data(as_text=True)
    assert f'<option value="{esco.id}">ESCO</option>' in html and 'accept="image/png,image/svg+xml"' in html
    # the picker sends the framework's id; a name (old forms, scripts) is matched to the framework too
    assert post(hr, NEW, form(align_framework=[esco.id, ""])).status_code == 303
    assert post(hr, NEW, form(slug="sql2", align_framework=["esco (European Skills)", ""])).status_code == 303
    assert {a.alignments[0]["targetFramework"] for a in achievements(app)} == {"ESCO"}
    assert [f.name for f in skills.frameworks()] == ["ESCO"]
    edit = hr.get(f"/admin/achievements/{achievements(app)[0].id}/edit").get_data(as_text=True)
    assert f'<option value="{esco.id}" selected>ESCO</option>' in edit


@SQLITE_ONLY
def test_without_script_find_lists_catalogue_skills_and_pick_fills_the_row(app, hr):
    skills = app.extensions["microcred"].use.skills
    skills.import_csv(ESCO_CSV.encode(), framework="ESCO", actor="t")
    typed = form(align_framework=["", "", ""], align_name=["", "", ""], align_url=["", "", ""],
                 align_code=["", "", ""], align_description=["", "", ""], align_search=["", "team", ""])
    found = post(hr, NEW, {**typed, "action": "find:1"})
    html = found.get_data(as_text=True)
    hit = skills.search("team")[0]
    assert found.status_code == 200 and "1 skill found: pick one." in page_text(found)
    assert f'value="pick:0:{hit.id}"' in html        # the empty row before it was dropped: the row is now the first
    picked = post(hr, NEW, {**typed, "align_search": ["team"], "action": f"pick:0:{hit.id}",
                            "align_framework": [""], "align_name": [""], "align_url": [""], "align_code": [""],
                            "align_description": [""]})
    html = picked.get_data(as_text=True)
    assert f'value="{ESCO_TEAM}"' in html and 'value="work in teams"' in html
    assert f'<option value="{hit.framework_id}" selected>ESCO</option>' in html
    nothing = post(hr, NEW, {**typed, "action": "find:1", "align_search": ["", "zzz", ""]})
    assert "No skill in the catalogue matches 'zzz'." in page_text(nothing)
    foreign = post(hr, NEW, {**typed, "action": "pick:0:" + "0" * 36})
    assert "There is no such skill in the catalogue." in page_text(foreign)
    assert achievements(app) == []


@SQLITE_ONLY
def test_the_search_endpoint_answers_json_to_signed_in_staff_only(app, hr):
    app.extensions["microcred"].use.skills.import_csv(ESCO_CSV.encode(), framework="ESCO", actor="t")
    response = hr.get("/admin/skills/search?q=sq")
    assert response.status_code == 200 and response.is_json
    assert [(i["name"], i["framework"], i["url"]) for i in response.json["items"]] == [("SQL", "ESCO", ESCO_SQL)]
    assert hr.get("/admin/skills/search?q=").json == {"items": []}
    assert hr.get("/admin/skills/search?q=%25%25%25&framework=x").json == {"items": []}
    assert app.test_client().get("/admin/skills/search?q=sq").status_code == 302      # signed out: to sign-in


@SQLITE_ONLY
def test_markdown_in_the_preview_is_rendered_and_sanitised(app, hr):
    response = post(hr, NEW, form(action="preview", description="Writes **correct** SQL <script>alert(1)</script>",
                                  criteria_narrative="1. [Pass](javascript:alert(1)) the test\n2. Show <img src=x onerror=alert(2)>"))
    html = response.get_data(as_text=True)
    assert "<strong>correct</strong>" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<ol>" in html and 'href="javascript' not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


# ------------------------------------------------------------------ who may

def test_signed_out_visitors_are_sent_to_sign_in_and_cannot_post(app):
    client = app.test_client()
    for path in ("/admin/achievements", NEW):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login?next=")
    assert client.post(NEW, data=form()).status_code in (400, 401)
    assert achievements(app) == []


@SQLITE_ONLY
def test_admins_may_use_the_pages_too(app):
    admin = Console(app).login("ada")
    assert post(admin, NEW, form()).status_code == 303
    assert audit(app)[0].actor == "staff:ada"


# ------------------------------------------------------------------ in a real browser

@SQLITE_ONLY
def test_browser_fill_preview_save_and_list(browser, db_url, tmp_path, artifacts_dir):  # noqa: F811
    def factory(base_url):
        app = console_app(tmp_path, db_url, base_url=base_url)
        add_staff(app, "ike", "issuer")
        app.extensions["microcred"].use.skills.create_framework(FrameworkFields("O*NET"), actor="t")
        return app

    with live_console(factory) as (app, base_url):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        problems = []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        browser_login(page, base_url, "ike")
        page.goto(f"{base_url}/admin/achievements")
        page.get_by_role("link", name="New achievement").click()
        page.get_by_label("Slug").fill("first-aid")
        page.locator("#f-name").fill("First aid")
        page.get_by_label("Description").fill("Can give first aid at work.")
        page.get_by_label("Criteria narrative").fill("Passed the practical assessment.")
        page.get_by_label("Achievement type").select_option("Certificate")
        page.get_by_label("Valid for (months)").fill("36")
        page.locator("#f-align-framework-0").select_option(label="O*NET")
        page.locator("#f-align-name-0").fill("First aid")
        page.locator("#f-align-url-0").fill("https://example.com/skills/first-aid")
        page.locator("#f-align-code-0").fill("2.B.3.j")
        page.get_by_label("Upload a PNG or SVG").set_input_files(
            files=[{"name": "badge.png", "mimeType": "image/png", "buffer": png_bytes((20, 120, 60))}])
        page.get_by_role("button", name="Preview").click()
        preview = page.locator(".achievement-preview")
        expect(preview).to_contain_text("First aid")
        expect(preview).to_contain_text("Valid for 36 months")
        expect(preview).to_contain_text("First aid (O*NET 2.B.3.j)")
        expect(preview.locator("img")).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
        page.screenshot(path=str(artifacts_dir / "admin-achievement-form.png"), full_page=True)
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_contain_text("Achievement First aid (first-aid) created.")
        row = page.locator("table.achievements tbody tr", has_text="first-aid")
        expect(row).to_contain_text("Valid for 36 months")
        expect(row.locator("img")).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
        assert problems == []
        context.close()
        with app.extensions["microcred"].sessions() as session:
            assert session.scalar(select(func.count()).select_from(Achievement)) == 1
