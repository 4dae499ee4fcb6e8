"""One table of award requests, run through every entry point that issues awards.

The REST API, the console's issue form, ``microcred issue``, a bulk CSV file and the service
itself must accept exactly the same requests and refuse the same ones for the same reason
(the one rule set, issuer.awards.rules): a row valid in the CSV is valid through the API,
and the reverse. Each case is written once as an API body and translated into each entry
point's own input (form fields, command options, CSV cells). Real parts: a real database,
the app's HTTP stack, the click command, the CSV reader.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from issuer.awards.rules import AwardRuleError
from issuer.bulk.reading import validate_csv
from issuer.cli import main
from tests.admin_support import Console, add_staff, console_app, page_text
from tests.issuer.awards.test_search import GRADE, add_achievements
from tests.issuer.web.api.test_api import make_tokens

TODAY = datetime.now(UTC).date()


@dataclass(frozen=True)
class Case:
    name: str
    fields: dict[str, Any]            # on top of {"achievement": "sql", "email": <unique>}
    refused: str | None = None        # the field the refusal is about; None: valid


def days_ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


CASES = [
    Case("minimal", {}),
    Case("person", {"name": "Alex Example", "employee_id": "E-1001", "did": "did:example:alex-1"}),
    Case("evidence link", {"evidence": [{"id": "https://wiki.example.com/projects/42"}]}),
    Case("evidence narrative", {"evidence": [{"narrative": "Rewrote the reporting queries.\nTwice."}]}),
    Case("allowed result", {"results": [{"resultDescription": GRADE["id"], "value": "B"}]}),
    Case("awarded date", {"awarded_at": days_ago(30)}),
    Case("awarded date-time", {"awarded_at": days_ago(10) + "T09:30:00Z"}),
    Case("not an email", {"email": "not-an-email"}, "email"),
    Case("email too long", {"email": "a" * 310 + "@example.com"}, "email"),
    Case("unknown achievement", {"achievement": "no-such-badge"}, "achievement"),
    Case("formula name", {"name": "=HYPERLINK(\"http://x\")"}, "name"),
    Case("formula employee id", {"employee_id": "+44123"}, "employee_id"),
    Case("name with a line break", {"name": "Alex\nExample"}, "name"),
    Case("name too long", {"name": "A" * 256}, "name"),
    Case("not a DID", {"did": "did:Bad"}, "did"),
    Case("evidence not http", {"evidence": [{"id": "ftp://files.example.com/a"}]}, "evidence"),
    Case("evidence with a space", {"evidence": [{"id": "https://wiki.example.com/a b"}]}, "evidence"),
    Case("value not allowed", {"results": [{"resultDescription": GRADE["id"], "value": "Z"}]}, "results"),
    Case("unknown result description", {"results": [{"resultDescription": "urn:uuid:no-such", "value": "A"}]},
         "results"),
    Case("future date", {"awarded_at": (TODAY + timedelta(days=2)).isoformat()}, "awarded_at"),
    Case("date-time without a zone", {"awarded_at": days_ago(3) + "T09:00:00"}, "awarded_at"),
    Case("before 1970", {"awarded_at": "1969-12-31"}, "awarded_at"),
    Case("already expired", {"awarded_at": days_ago(800)}, "awarded_at"),
]


def body_of(number: int, case: Case) -> dict[str, Any]:
    return {"achievement": "sql", "email": f"case{number}@example.com", **case.fields}


@dataclass(frozen=True)
class Outcome:
    accepted: bool
    message: str | None = None         # the refusal, as the entry point shows it
    field: str | None = None           # when the entry point names the field


# ---------------------------------------------------------------- the entry points

def through_service(app, body) -> Outcome:
    try:
        app.extensions["microcred"].use.awards.issue(body, actor="test", notify=False)
    except AwardRuleError as exc:
        return Outcome(False, exc.message, exc.field)
    return Outcome(True)


def through_api(app, body) -> Outcome:
    token = app.tokens["issue"]
    response = app.test_client().post("/api/v1/awards", json=body, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 201:
        return Outcome(True)
    assert response.status_code == 422, response.get_data(as_text=True)
    problem = response.get_json()
    return Outcome(False, problem["detail"], problem.get("field"))


def form_of(body: dict[str, Any]) -> dict[str, str]:
    form = {key: body[key] for key in ("achievement", "email", "name", "employee_id", "did", "awarded_at")
            if key in body}
    for item in body.get("evidence", []):
        form |= {f"evidence_{'url' if key == 'id' else key}": value for key, value in item.items()}
    for result in body.get("results", []):
        form[f"result:{result['resultDescription']}"] = result["value"]
    return form


def through_console(app, body) -> Outcome:
    response = app.console.post("/admin/awards/new", form_of(body), token_from="/admin/awards/new")
    if response.status_code == 303:
        return Outcome(True)
    assert response.status_code == 422, page_text(response)[:500]
    errors = re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.S)
    assert len(errors) == 1, errors
    return Outcome(False, page_text_of(errors[0]))


def page_text_of(fragment: str) -> str:
    import html
    return html.unescape(re.sub(r"\s+", " ", fragment)).strip()


def options_of(body: dict[str, Any]) -> list[str]:
    args = ["issue"]
    for key in ("achievement", "email", "name", "employee_id", "did"):
        if key in body:
            args += [f"--{key.replace('_', '-')}", body[key]]
    if "awarded_at" in body:
        args += ["--awarded", body["awarded_at"]]
    for item in body.get("evidence", []):
        args += ["--evidence-url", item["id"]] if "id" in item else ["--evidence", item["narrative"]]
    for result in body.get("results", []):
        args += ["--result", f"{result['resultDescription']}={result['value']}"]
    return args


def through_cli(app, body) -> Outcome:
    result = CliRunner().invoke(main, options_of(body), env=app.cli_env, catch_exceptions=False)
    if result.exit_code == 0:
        return Outcome(True)
    assert result.exit_code == 2, (result.exit_code, result.output, result.stderr)
    return Outcome(False, result.stderr.strip().removeprefix("error: "))


CSV_COLUMNS = ("email", "name", "employee_id", "did", "achievement", "evidence_url", "evidence_narrative",
               "result_description", "result_value", "awarded_date")


def csv_of(body: dict[str, Any]) -> bytes:
    cells = {key: body[key] for key in ("email", "name", "employee_id", "did", "achievement") if key in body}
    for item in body.get("evidence", []):
        cells |= {"evidence_url" if key == "id" else f"evidence_{key}": value for key, value in item.items()}
    for result in body.get("results", []):
        cells |= {"result_description": result["resultDescription"], "result_value": result["value"]}
    if "awarded_at" in body:
        cells["awarded_date"] = body["awarded_at"]
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(cells)
    return out.getvalue().encode()


def through_csv(app, body) -> Outcome:
    services = app.extensions["microcred"].use
    with services.runtime.reading() as session:
        report = validate_csv(csv_of(body), session, services.runtime.load_issuer(session))
    if report.ok:
        assert len(report.rows) == 1
        return Outcome(True)
    assert [p.line for p in report.problems] == [2], report.lines()
    return Outcome(False, report.problems[0].reason)


ENTRY_POINTS = {"service": through_service, "api": through_api, "console": through_console, "cli": through_cli,
                "csv": through_csv}


@pytest.fixture()
def app(db_url, tmp_path):
    app = console_app(tmp_path, db_url)
    add_achievements(app)
    add_staff(app, "hana", "issuer")
    app.console = Console(app).login("hana")
    app.tokens = make_tokens(app)
    settings = app.extensions["microcred"].settings
    app.cli_env = {"MICROCRED_INSTANCE": str(settings.instance), "MICROCRED_KEYS": str(settings.keys_dir),
                   "MICROCRED_BASE_URL": settings.base_url, "DATABASE_URL": settings.database_url}
    yield app
    app.extensions["microcred"].engine.dispose()


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_accepts_and_refuses_the_same_requests(app, entry):
    outcomes = {case.name: ENTRY_POINTS[entry](app, body_of(n, case)) for n, case in enumerate(CASES)}
    assert {name: o.accepted for name, o in outcomes.items()} == {c.name: c.refused is None for c in CASES}
    for case in CASES:
        outcome = outcomes[case.name]
        if case.refused is not None and outcome.field is not None:
            assert outcome.field == case.refused, (case.name, outcome)
    app.outcomes = outcomes


def test_the_refusals_say_the_same_thing_everywhere(app):
    """The API, the console, the CLI and the service give the same sentence; the CSV the same rule in its
    column names (awarded_date for awarded_at, evidence_url for an evidence id, ...)."""
    refused = [(n, case) for n, case in enumerate(CASES) if case.refused]
    by_entry = {entry: [through(app, body_of(100 + n, case)).message for n, case in refused]
                for entry, through in ENTRY_POINTS.items()}
    for entry in ("api", "console", "cli"):
        assert by_entry[entry] == by_entry["service"], entry
    renames = {"'awarded_at'": "awarded_date", "'id'": "evidence_url", "'value'": "result_value",
               "'resultDescription'": "result_description", "'email'": "email", "'name'": "name",
               "'employee_id'": "employee_id", "'did'": "did"}
    for api_message, csv_message in zip(by_entry["service"], by_entry["csv"], strict=True):
        expected = api_message
        for api_word, column in renames.items():
            expected = expected.replace(api_word, column)
        assert csv_message == expected
