"""POST /api/v1/awards/bulk?mode=valid-rows: the good rows issued, the bad ones listed (and as a CSV for jobs)."""
from __future__ import annotations

import csv
import io

from issuer.db.models import Award
from tests.issuer.web.api.test_api import (  # noqa: F401  (fixtures)
    CSV,
    SQLITE_ONLY,
    app,
    assert_problem,
    auth,
    client,
    count,
    tokens,
)

MIXED = CSV + "not-an-email,X,teamwork,,row-3\ncy@example.com,Cy,no-such-badge,,row-4\n"


@SQLITE_ONLY
def test_valid_rows_mode_issues_the_good_rows_and_lists_the_rejected(app, client, tokens):
    write = auth(tokens["issue"])
    done = client.post("/api/v1/awards/bulk?mode=valid-rows", data=MIXED, content_type="text/csv", headers=write)
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    assert body["ok"] is False and body["issued"] == 2 and [a["line"] for a in body["awards"]] == [2, 3]
    assert [r["line"] for r in body["rejected"]] == [4, 5]
    assert "not an email address" in body["rejected"][0]["reason"]
    assert count(app, Award) == 2
    clean = client.post("/api/v1/awards/bulk?mode=valid-rows", data=CSV, content_type="text/csv", headers=write)
    assert clean.status_code == 200 and clean.get_json()["ok"] is True and clean.get_json()["rejected"] == []
    assert_problem(client.post("/api/v1/awards/bulk?mode=some", data=CSV, content_type="text/csv", headers=write),
                   422)
    header_bad = MIXED.replace("external_id", "externalid")
    assert_problem(client.post("/api/v1/awards/bulk?mode=valid-rows", data=header_bad, content_type="text/csv",
                               headers=write), 422)
    assert count(app, Award) == 2


@SQLITE_ONLY
def test_a_background_job_in_valid_rows_mode_has_its_rejected_rows_as_csv(app, client, tokens):
    write, read = auth(tokens["issue"]), auth(tokens["read"])
    started = client.post("/api/v1/awards/bulk?async=true&mode=valid-rows", data=MIXED, content_type="text/csv",
                          headers=write)
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    assert [r["line"] for r in job["rejected"]] == [4, 5]
    assert app.extensions["microcred"].use.bulk.wait(job["id"], timeout=120)
    done = client.get(job["url"], headers=read).get_json()
    assert done["state"] == "done" and done["counts"]["issued"] == 2 and done["counts"]["errors"] == 2
    rejected = client.get(job["url"] + "/rejected", headers=read)
    assert rejected.status_code == 200 and rejected.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(rejected.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["line", "reason", "email", "name", "achievement", "evidence_url", "external_id"]
    assert [(r[0], r[2], r[6]) for r in rows[1:]] == [("4", "not-an-email", "row-3"), ("5", "cy@example.com", "row-4")]
    assert count(app, Award) == 2
