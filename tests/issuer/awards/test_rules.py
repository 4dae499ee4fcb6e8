"""The award request rules (issuer.awards.rules), rule by rule; tests/issuer/awards/test_rule_table.py runs one
table of requests through every entry point."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from issuer.awards.rules import (
    AwardRuleError,
    Catalog,
    award_request,
    check_award,
    form_body,
    parse_moment,
    status_reason,
)
from issuer.db.models import Achievement
from tests.issuer.web.api.test_api import auth, build_app, make_settings, make_tokens, seed_issuer

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
RUBRIC = {"id": "https://hr.example.com/achievements/a#rubric", "name": "Assessed proficiency",
          "resultType": "RubricCriterionLevel",
          "rubricCriterionLevel": [{"id": "https://hr.example.com/achievements/a#level-basic", "name": "Basic"},
                                   {"id": "https://hr.example.com/achievements/a#level-advanced",
                                    "name": "Advanced"}]}
GRADE = {"id": "urn:uuid:grade", "name": "Grade", "resultType": "LetterGrade", "allowedValue": ["A", "B", "C"]}
SCORE = {"id": "urn:uuid:score", "name": "Score", "resultType": "Percent"}

# (body fields over a valid body, the field named, the message) — the REST API's messages
REFUSED = [
    ({"achievement": None}, "achievement", "'achievement' is required."),
    ({"achievement": "  "}, "achievement", "'achievement' must not be empty."),
    ({"email": 7}, "email", "'email' must be a string."),
    ({"name": "x" * 256}, "name", "'name' is longer than 255 characters."),
    ({"did": "not a did"}, "did", "'did' 'not a did' is not a DID (did:method:identifier)."),
    ({"jwt": "yes"}, "jwt", "'jwt' must be true or false."),
    ({"extra": 1}, None, "The award has unknown field 'extra'; allowed: achievement, email, name, employee_id, "
                         "did, evidence, results, awarded_at, jwt."),
    ({"evidence": "https://x.example"}, "evidence", "'evidence' must be a list of at most 20 evidence objects."),
    ({"evidence": [{"id": "javascript:alert(1)"}]}, "evidence", "'id' 'javascript:alert(1)' is not an http(s) URL."),
    ({"evidence": [{"name": "no id"}]}, "evidence", "An evidence item needs 'id' (a URL) or 'narrative'."),
    ({"evidence": [{}]}, "evidence", "Each evidence item must be a non-empty object."),
    ({"evidence": [{"id": "https://x.example", "script": "x"}]}, "evidence",
     "An evidence item has unknown field 'script'; allowed: id, narrative, name, description, genre, audience."),
    ({"results": [{"value": 1}]}, "results", "'value' must be a string."),
    ({"results": [{}] * 21}, "results", "'results' must be a list of at most 20 results."),
    ({"awarded_at": "yesterday"}, "awarded_at",
     "'awarded_at' 'yesterday' is not an ISO 8601 date (2026-03-31) or date-time (2026-03-31T09:00:00Z)."),
    ({"awarded_at": "2026-11-20T09:00:00"}, "awarded_at", "'awarded_at' '2026-11-20T09:00:00' has a time but no "
     "time zone; add one (e.g. 2026-11-20T09:00:00Z for UTC), or give only the date."),
    ({"name": "=1+1"}, "name", "'name' '=1+1' starts with '=': refused, a spreadsheet would run it as a formula "
     "(CSV injection)."),
    ({"employee_id": "E\n1"}, "employee_id", "'employee_id' contains a control character or line break."),
    ({"results": [{"value": "A"}]}, "results",
     "'value' is given without 'resultDescription' (which of the achievement's results it is)."),
    ({"awarded_at": "2999-01-01T00:00:00Z"}, "awarded_at", "'awarded_at' '2999-01-01T00:00:00Z' is in the future."),
    ({"awarded_at": "1960-01-01"}, "awarded_at", "'awarded_at' '1960-01-01' is before 1970."),
    ({"awarded_at": 20260101}, "awarded_at", "'awarded_at' must be an ISO 8601 date or date-time string."),
]


def body(**fields) -> dict:
    document = {"achievement": "teamwork", "email": "alex@example.com", **fields}
    return {k: v for k, v in document.items() if v is not None}


@pytest.mark.parametrize(("fields", "field", "message"), REFUSED)
def test_each_rule_refuses_with_its_field_and_message(fields, field, message):
    with pytest.raises(AwardRuleError) as caught:
        award_request(body(**fields), now=NOW)
    assert str(caught.value) == message and caught.value.message == message
    assert caught.value.field == field


def test_a_valid_body_becomes_an_award_request():
    request, jwt = award_request(body(name="Alex Example", employee_id="E-1", did="did:key:z6Mk1",
                                      evidence=[{"id": "https://x.example/work", "name": "Work"}],
                                      results=[{"resultDescription": "urn:uuid:grade", "value": "A"}],
                                      awarded_at="2026-11-20", jwt=True), "key-1", now=NOW)
    assert jwt is True
    assert (request.achievement, request.email, request.name, request.employee_id, request.did) == \
        ("teamwork", "alex@example.com", "Alex Example", "E-1", "did:key:z6Mk1")
    assert request.evidence == ({"id": "https://x.example/work", "name": "Work"},)
    assert request.results == ({"resultDescription": "urn:uuid:grade", "value": "A"},)
    assert request.awarded_at == datetime(2026, 11, 20, tzinfo=UTC)
    assert request.external_id == "key-1"


def test_the_future_is_judged_against_the_clock_given():
    assert parse_moment("2026-11-26T12:04:00Z", "awarded_at", NOW) == NOW + timedelta(minutes=4)
    with pytest.raises(AwardRuleError, match="in the future"):
        parse_moment("2026-11-26T12:06:00Z", "awarded_at", NOW)
    assert parse_moment("2026-11-26T14:00:00+02:00", "awarded_at", NOW) == NOW


def test_status_reasons_are_required_and_bounded():
    assert status_reason({"reason": "left the company"}) == "left the company"
    with pytest.raises(AwardRuleError, match="'reason' is required."):
        status_reason({})
    with pytest.raises(AwardRuleError, match="'reason' must not be empty."):
        status_reason({"reason": " "})
    with pytest.raises(AwardRuleError, match="longer than 1000"):
        status_reason({"reason": "x" * 1001}, required=False)
    assert status_reason({}, required=False) is None


def test_a_form_becomes_a_body_without_its_empty_fields():
    form = {"achievement": "a-id", "email": " alex@example.com ", "name": "Alex", "employee_id": "", "did": "",
            "evidence_url": "https://x.example/work", "evidence_narrative": "Led the project.", "evidence_name": "",
            "awarded_at": "2026-11-20", "result:" + RUBRIC["id"]: RUBRIC["rubricCriterionLevel"][1]["id"],
            "result:" + GRADE["id"]: "B", "result:" + SCORE["id"]: "", "notify": "yes", "csrf_token": "t"}
    assert form_body(form, [RUBRIC, GRADE, SCORE]) == {
        "achievement": "a-id", "email": "alex@example.com", "name": "Alex", "awarded_at": "2026-11-20",
        "evidence": [{"id": "https://x.example/work", "narrative": "Led the project."}],
        "results": [{"resultDescription": RUBRIC["id"], "achievedLevel": RUBRIC["rubricCriterionLevel"][1]["id"],
                     "value": "Advanced"},
                    {"resultDescription": GRADE["id"], "value": "B"}],
    }
    request, _ = award_request(form_body(form, [RUBRIC, GRADE, SCORE]), now=NOW)
    assert request.awarded_at == datetime(2026, 11, 20, tzinfo=UTC)


def test_an_empty_form_is_refused_by_the_same_rules():
    with pytest.raises(AwardRuleError) as caught:
        award_request(form_body({"achievement": "a-id", "email": "  "}), now=NOW)
    assert caught.value.field == "email" and str(caught.value) == "'email' must not be empty."


def test_a_form_with_a_bad_evidence_url_is_refused():
    with pytest.raises(AwardRuleError) as caught:
        award_request(form_body({"achievement": "a", "email": "a@example.com", "evidence_url": "ftp://x"}), now=NOW)
    assert caught.value.field == "evidence"


def catalog(*descriptions: dict, months: int | None = None) -> Catalog:
    return Catalog([Achievement(id="a-id", slug="a", name="A", result_descriptions=list(descriptions),
                                validity_months=months)])


def checked(form: dict, *descriptions: dict, months: int | None = None):
    request, _ = award_request(form_body({"achievement": "a", "email": "a@example.com", **form}, list(descriptions)),
                               now=NOW)
    return check_award(request, catalog(*descriptions, months=months), now=NOW)


@pytest.mark.parametrize("chosen", ["https://hr.example.com/achievements/a#level-expert", "Advanced"])
def test_a_rubric_level_must_be_one_of_its_levels(chosen):
    with pytest.raises(AwardRuleError, match="is not one of the levels of Assessed proficiency") as caught:
        checked({"result:" + RUBRIC["id"]: chosen}, RUBRIC)
    assert caught.value.field == "results"


def test_an_allowed_value_must_be_one_of_them():
    with pytest.raises(AwardRuleError) as caught:
        checked({"result:" + GRADE["id"]: "Z"}, GRADE)
    assert caught.value.message == "'value' 'Z' is not one of the values of Grade (A, B, C)."


def test_a_result_for_an_unknown_description_is_refused_by_the_catalog():
    with pytest.raises(AwardRuleError) as caught:
        checked({"result:urn:uuid:other": "A"}, GRADE)
    assert caught.value.code == "unknown_result_description" and caught.value.field == "results"


def test_an_award_that_would_already_have_expired_is_refused():
    assert checked({"awarded_at": "2026-01-01"}, months=12).slug == "a"
    with pytest.raises(AwardRuleError) as caught:
        checked({"awarded_at": "2025-11-01"}, months=12)
    assert caught.value.field == "awarded_at" and "would already have expired on 2026-11-01" in caught.value.message


def test_an_unknown_achievement_is_refused_by_the_catalog():
    request, _ = award_request({"achievement": "b", "email": "a@example.com"}, now=NOW)
    with pytest.raises(AwardRuleError) as caught:
        check_award(request, catalog(), now=NOW)
    assert caught.value.code == "unknown_achievement" and caught.value.field == "achievement"


# ---------------------------------------------------------------- the REST API says the same

@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_rest_api_refuses_with_the_same_messages(db_url, tmp_path):
    app = build_app(make_settings(tmp_path, db_url))
    seed_issuer(app)
    token = make_tokens(app)["issue"]
    client = app.test_client()
    try:
        for fields, _field, message in REFUSED:
            response = client.post("/api/v1/awards", json=body(**fields), headers=auth(token))
            assert response.status_code == 422, response.get_data(as_text=True)
            assert json.loads(response.get_data(as_text=True))["detail"] == message
    finally:
        app.extensions["microcred"].engine.dispose()
