"""The console's Frameworks page (/admin/frameworks): list, new, edit (a rename reaches the
achievements), import a skills CSV (every bad row listed, nothing stored; skip them when asked;
again without duplicates), CSRF and sign-in. Flask test client on a real database."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from issuer.db.models import Achievement
from issuer.db.models_skills import Skill, SkillFramework
from issuer.identity import load_issuer
from tests.admin_support import Console, add_staff, console_app, page_text
from tests.issuer.skills.csv_samples import ESCO, ONET, OWN

PAGE = "/admin/frameworks"
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture()
def app(db_url, tmp_path):
    app = console_app(tmp_path, db_url)
    add_staff(app, "ike", "issuer")
    yield app
    app.extensions["microcred"].engine.dispose()


@pytest.fixture()
def hr(app) -> Console:
    return Console(app).login("ike")


def count(app, model) -> int:
    with app.extensions["microcred"].sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def upload(hr: Console, text: str, **fields):
    data = {"file": (io.BytesIO(text.encode()), "skills.csv"), "framework": "~new", **fields}
    return hr.post(f"{PAGE}/import", data, token_from=PAGE, content_type="multipart/form-data")


def test_import_a_new_framework_then_again_into_it(app, hr):
    response = upload(hr, ESCO, new_framework="ESCO")
    assert response.status_code == 303
    page = hr.get(PAGE)
    text = page_text(page)
    assert "ESCO: 3 skills added, 0 updated, 0 unchanged (from ESCO skills, 3 rows)." in text
    assert "ESCO European Commission 3 0 Edit ESCO" in text
    esco = app.extensions["microcred"].use.skills.frameworks()[0]
    assert f'<option value="{esco.id}" selected>ESCO</option>' in page.get_data(as_text=True)
    assert upload(hr, ESCO, framework=esco.id).status_code == 303
    assert "0 skills added, 0 updated, 3 unchanged" in page_text(hr.get(PAGE))
    assert count(app, Skill) == 3 and count(app, SkillFramework) == 1


def test_a_file_with_bad_rows_lists_them_all_and_stores_nothing(app, hr):
    bad = OWN + "javascript:alert(1),<b>Bad</b>,,\n,Missing,,\n"
    response = upload(hr, bad, new_framework="Ours")
    text = page_text(response)
    assert response.status_code == 422
    assert "Nothing was imported: 2 rows of the file have a problem" in text
    assert "Line 4: the url 'javascript:alert(1)' is not an http(s) URL" in text and "Line 5: the url is empty" in text
    assert "<b>Bad</b>" not in response.get_data(as_text=True)
    assert count(app, Skill) == 0 and count(app, SkillFramework) == 0
    skipped = upload(hr, bad, new_framework="Ours", skip_bad_rows="yes")
    assert skipped.status_code == 303
    text = page_text(hr.get(PAGE))
    assert "Skipped line 4:" in text and "Ours: 2 skills added" in text and "2 bad rows skipped" in text


@pytest.mark.parametrize(("text", "fields", "message"), [
    ("a,b\n1,2\n", {"new_framework": "X"}, "The first line does not name the columns of a skills file"),
    (ONET, {"new_framework": "  "}, "Name the framework the skills belong to"),
    (ONET, {"framework": "no-such-id"}, "There is no skill framework 'no-such-id'."),
])
def test_refusals_are_plain_sentences(app, hr, text, fields, message):
    response = upload(hr, text, **fields)
    assert response.status_code in (404, 422) and message in page_text(response)
    assert count(app, Skill) == 0 and count(app, SkillFramework) == 0


def test_no_file_chosen(app, hr):
    response = hr.post(f"{PAGE}/import", {"framework": "~new"}, token_from=PAGE, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose the skills file (CSV) to import." in page_text(response)


def test_new_framework_and_edit_with_a_rename_reaching_the_achievements(app, hr):
    created = hr.post(PAGE, {"name": "Example skills", "publisher": "Example Corp", "url": "https://skills.example.com/"},
                      token_from=PAGE)
    assert created.status_code == 303
    duplicate = hr.post(PAGE, {"name": "example SKILLS (v2)"}, token_from=PAGE)
    assert duplicate.status_code == 409 and "The framework 'Example skills' exists already" in page_text(duplicate)
    bad_url = hr.post(PAGE, {"name": "Other", "url": "javascript:alert(1)"}, token_from=PAGE)
    assert bad_url.status_code == 422 and "must be an http(s) URL" in page_text(bad_url)
    use = app.extensions["microcred"].use
    framework = use.skills.frameworks()[0]
    use.achievements.create({"slug": "fb", "name": "Feedback", "description": "d", "criteria_narrative": "c",
                             "alignments": [{"targetName": "Give feedback", "targetUrl": "https://skills.example.com/f",
                                             "targetFramework": "Example skills"}]}, actor="t")
    edit = f"{PAGE}/{framework.id}/edit"
    assert 'value="Example Corp"' in hr.get(edit).get_data(as_text=True)
    saved = hr.post(edit, {"name": "Example Corp skills", "publisher": "Example Corp", "url": ""}, token_from=PAGE)
    assert saved.status_code == 303
    assert use.achievements.get("fb").alignments[0]["targetFramework"] == "Example Corp skills"
    assert hr.get(f"{PAGE}/nope/edit").status_code == 404
    empty = hr.post(edit, {"name": " "}, token_from=PAGE)
    assert empty.status_code == 422 and "A framework needs a name" in page_text(empty)


def test_signed_out_and_cross_site_posts_are_refused(app, hr):
    client = app.test_client()
    assert client.get(PAGE).status_code == 302
    assert client.post(PAGE, data={"name": "X"}).status_code in (400, 401)
    no_token = hr.client.post(PAGE, data={"name": "X"})
    assert no_token.status_code == 400
    cross = hr.post(PAGE, {"name": "X"}, token_from=PAGE, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert count(app, SkillFramework) == 0


def test_the_navigation_links_the_page(hr):
    html = hr.get("/admin/achievements").get_data(as_text=True)
    assert f'<a href="{PAGE}">Frameworks</a>' in html


def test_framework_names_stored_around_the_service_can_be_adopted(app, hr):
    with app.extensions["microcred"].sessions.begin() as session:
        issuer = load_issuer(session, app.extensions["microcred"].settings)
        session.add(Achievement(issuer_id=issuer.id, slug="demo", name="Demo", description="d", alignments=[
            {"targetName": "SQL", "targetUrl": "http://data.europa.eu/esco/skill/1", "targetFramework": "ESCO (long)"},
            {"targetName": "Git", "targetUrl": "http://data.europa.eu/esco/skill/2", "targetFramework": "esco"},
            {"targetName": "Reading", "targetUrl": "https://www.onetonline.org/find/descriptor/result/2.A.1.a",
             "targetFramework": "O*NET Content Model (Skills)"}]))
    text = page_text(hr.get(PAGE))
    assert ("Achievements name 3 frameworks that are not in this list yet: esco, ESCO (long), "
            "O*NET Content Model (Skills).") in text
    assert hr.post(f"{PAGE}/adopt", {}, token_from=PAGE).status_code == 303
    text = page_text(hr.get(PAGE))
    assert "Frameworks added: esco, O*NET Content Model (Skills)." in text and "not in this list yet" not in text
    assert "O*NET Content Model (Skills) U.S. Department of Labor, O*NET Resource Center 0 1" in text
    alignments = app.extensions["microcred"].use.achievements.get("demo").alignments
    assert [a["targetFramework"] for a in alignments] == ["esco", "esco", "O*NET Content Model (Skills)"]
    assert hr.post(f"{PAGE}/adopt", {}, token_from=PAGE).status_code == 303
    assert "Every framework name is a framework already." in page_text(hr.get(PAGE))
