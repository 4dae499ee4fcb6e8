"""The console's bulk issue pages (/admin/bulk) through Flask's test client, on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import re
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from issuer.bulk import jobs as bulk_jobs
from issuer.bulk import run as bulk
from issuer.db.models import Award
from tests.admin_support import Console, add_staff, browser_login, console_app, live_console, page_text
from tests.browser_fixtures import artifacts_dir, browser  # noqa: F401  (fixtures; one browser per module)

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
DEADLINE = 180

GOOD = (b"email,name,achievement,awarded_date,external_id\r\n"
        b"ana@example.com,Ana Lopez,team-leadership,2026-01-15,hr-1\r\n"
        b"-ben@example.com,Ben Okafor,coaching-feedback,2026-02-01,hr-2\r\n"
        b"cho@example.com,Cho Park,team-leadership,,hr-3\r\n")
BAD = GOOD.replace(b"Cho Park,team-leadership", b"Cho Park,team-leadrship")


@pytest.fixture()
def app(tmp_path, db_url):
    app = console_app(tmp_path, db_url, demo=True)
    add_staff(app, "hana", "issuer")
    add_staff(app, "omar", "issuer")
    yield app
    assert app.extensions["microcred"].use.bulk.jobs.wait_all(DEADLINE)


def upload(console: Console, data: bytes, filename: str = "awards.csv"):
    return console.post("/admin/bulk", {"file": (io.BytesIO(data), filename)}, token_from="/admin/bulk",
                        content_type="multipart/form-data")


def upload_job(console: Console, data: bytes) -> str:
    response = upload(console, data)
    assert response.status_code == 303, page_text(response)
    match = re.fullmatch(r"/admin/bulk/([0-9a-f-]{36})", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def wait_done(console: Console, job_id: str) -> dict:
    """Poll the progress JSON until the job has finished (a generous deadline, not a timing check)."""
    deadline = time.monotonic() + DEADLINE
    while True:
        progress = console.get(f"/admin/bulk/{job_id}/progress").get_json()
        if progress["state"] in ("done", "failed") or time.monotonic() > deadline:
            return progress
        time.sleep(0.1)


def error_rows(html: str) -> list[tuple[str, str]]:
    """(line, reason) of each highlighted row."""
    return re.findall(r'<tr class="row-error">\s*<td class="num"[^>]*>(\d+)</td>.*?<td class="reason"[^>]*>([^<]*)</td>',
                      html, flags=re.S)


def awards(app) -> int:
    with app.extensions["microcred"].sessions() as session:
        return session.scalar(select(func.count()).select_from(Award))


def test_upload_shows_every_row_and_highlights_the_bad_one_with_its_reason(app):
    hr = Console(app).login("hana")
    job_id = upload_job(hr, BAD)
    page = hr.get(f"/admin/bulk/{job_id}")
    html, text = page.get_data(as_text=True), page_text(page)
    assert page.status_code == 200
    assert error_rows(html) == [("4", "There is no achievement &#39;team-leadrship&#39;.")]
    for line, email in (("2", "ana@example.com"), ("3", "-ben@example.com"), ("4", "cho@example.com")):
        assert re.search(rf'<td class="num" data-label="Line">{line}</td><td data-label="Email">{re.escape(email)}</td>',
                         html)
    assert "Rows 3 Ready to issue 2 Already issued 0 With problems 1" in text
    assert "1 row of this file has problems" in text and "upload it again" in text
    assert "Confirm and issue" not in text and html.count(f"/admin/bulk/{job_id}/confirm") == 1   # valid rows only
    assert "Issue the 2 valid rows" in text
    refused = hr.post(f"/admin/bulk/{job_id}/confirm", token_from=f"/admin/bulk/{job_id}")
    assert refused.status_code == 303
    assert "was not started" in page_text(hr.get(f"/admin/bulk/{job_id}"))
    assert hr.get(f"/admin/bulk/{job_id}/progress").get_json()["state"] == "validated"


def test_confirm_then_progress_then_results_csv(app):
    hr = Console(app).login("hana")
    before = awards(app)
    job_id = upload_job(hr, GOOD)
    page = hr.get(f"/admin/bulk/{job_id}")
    assert "3 awards will be issued" in page_text(page) and not error_rows(page.get_data(as_text=True))
    assert hr.get(f"/admin/bulk/{job_id}/results.csv").status_code == 404      # nothing yet
    started = hr.post(f"/admin/bulk/{job_id}/confirm", token_from=f"/admin/bulk/{job_id}")
    assert started.status_code == 303 and started.headers["Location"] == f"/admin/bulk/{job_id}"
    progress = wait_done(hr, job_id)
    assert progress["state"] == "done" and progress["done"] == progress["total"] == 3
    assert progress["summary"]["issued"] == 3 and "table" not in progress["summary"]
    assert awards(app) == before + 3
    page = hr.get(f"/admin/bulk/{job_id}")
    assert "Done: 3 awards issued, 0 already issued before." in page_text(page)
    assert f'href="/admin/bulk/{job_id}/results.csv"' in page.get_data(as_text=True)
    result = hr.get(f"/admin/bulk/{job_id}/results.csv")
    assert result.status_code == 200 and result.mimetype == "text/csv"
    assert result.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(result.get_data(as_text=True))))
    assert [(r["line"], r["email"], r["status"]) for r in rows] == [
        ("2", "ana@example.com", "issued"), ("3", "'-ben@example.com", "issued"), ("4", "cho@example.com", "issued")]
    assert all(r["credential_url"] == f"https://hr.example.com/credentials/{r['award_id']}" for r in rows)
    # the same file again: every row already issued, nothing issued twice
    again = upload_job(hr, GOOD)
    assert page_text(hr.get(f"/admin/bulk/{again}")).count("already issued") == 3
    hr.post(f"/admin/bulk/{again}/confirm", token_from=f"/admin/bulk/{again}")
    assert wait_done(hr, again)["summary"]["already_issued"] == 3 and awards(app) == before + 3


def test_a_file_with_a_bad_row_can_have_its_valid_rows_issued_and_the_bad_one_downloaded(app):
    hr = Console(app).login("hana")
    before = awards(app)
    job_id = upload_job(hr, BAD)
    page = hr.get(f"/admin/bulk/{job_id}")
    html, text = page.get_data(as_text=True), page_text(page)
    assert "Issue the 2 valid rows" in text and 'name="mode" value="valid-rows"' in html
    rejected = hr.get(f"/admin/bulk/{job_id}/rejected.csv")
    assert rejected.status_code == 200 and rejected.mimetype == "text/csv"
    assert rejected.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.reader(io.StringIO(rejected.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [["line", "reason", "email", "name", "achievement", "awarded_date", "external_id"],
                    ["4", "There is no achievement 'team-leadrship'.", "cho@example.com", "Cho Park", "team-leadrship",
                     "", "hr-3"]]
    refused = hr.post(f"/admin/bulk/{job_id}/confirm", token_from=f"/admin/bulk/{job_id}")   # all or nothing
    assert refused.status_code == 303 and "was not started" in page_text(hr.get(f"/admin/bulk/{job_id}"))
    assert awards(app) == before
    started = hr.post(f"/admin/bulk/{job_id}/confirm", {"mode": "valid-rows"}, token_from=f"/admin/bulk/{job_id}")
    assert started.status_code == 303
    progress = wait_done(hr, job_id)
    assert progress["state"] == "done" and progress["summary"]["issued"] == 2 and progress["summary"]["errors"] == 1
    assert awards(app) == before + 2
    text = page_text(hr.get(f"/admin/bulk/{job_id}"))
    assert "Done: 2 awards issued, 0 already issued before; 1 row with problems was not issued." in text
    results = list(csv.DictReader(io.StringIO(hr.get(f"/admin/bulk/{job_id}/results.csv").get_data(as_text=True))))
    assert [(r["line"], r["email"], r["status"]) for r in results] == [
        ("2", "ana@example.com", "issued"), ("3", "'-ben@example.com", "issued"), ("4", "cho@example.com", "error")]
    assert results[2]["error"] == "There is no achievement 'team-leadrship'."
    assert "team-leadrship" in hr.get(f"/admin/bulk/{job_id}/rejected.csv").get_data(as_text=True)


def test_a_file_with_a_bad_header_offers_no_partial_issue(app):
    hr = Console(app).login("hana")
    job_id = upload_job(hr, GOOD.replace(b"external_id", b"externalid"))
    text = page_text(hr.get(f"/admin/bulk/{job_id}"))
    assert "valid rows" not in text and "Download the rows with problems" in text
    hr.post(f"/admin/bulk/{job_id}/confirm", {"mode": "valid-rows"}, token_from=f"/admin/bulk/{job_id}")
    assert hr.get(f"/admin/bulk/{job_id}/progress").get_json()["state"] == "validated"


def test_job_list_and_running_page(app):
    hr = Console(app).login("hana")
    job_id = upload_job(hr, GOOD)
    index = hr.get("/admin/bulk")
    assert index.status_code == 200 and 'accept=".csv,text/csv"' in index.get_data(as_text=True)
    assert f'href="/admin/bulk/{job_id}"' in index.get_data(as_text=True)
    assert "awards.csv validated 3 0 hana" in page_text(index)
    with app.extensions["microcred"].sessions.begin() as session:     # as seen while it runs
        session.get(bulk_jobs.BulkJob, job_id).state, session.get(bulk_jobs.BulkJob, job_id).done = "running", 1
    page = hr.get(f"/admin/bulk/{job_id}").get_data(as_text=True)
    assert re.search(r'<progress id="bulk-progress" max="3" value="1"', page)
    assert '<script src="https://hr.example.com/static/admin-bulk.js" defer></script>' in page and "<noscript>" in page
    assert "<script>" not in page and "Resume" not in page


def test_template_csv_is_a_valid_file(app):
    hr = Console(app).login("hana")
    template = hr.get("/admin/bulk/template.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    assert template.headers["Content-Disposition"] == 'attachment; filename="bulk-template.csv"'
    job_id = upload_job(hr, template.data)
    assert hr.get(f"/admin/bulk/{job_id}/progress").get_json()["summary"] == {
        "rows": 1, "ready": 1, "already_issued": 0, "errors": 0, "fatal": False, "left_out": 0}


@SQLITE_ONLY
def test_uploads_without_a_file_empty_or_too_large_are_refused(app):
    hr = Console(app).login("hana")
    missing = hr.post("/admin/bulk", {}, token_from="/admin/bulk", content_type="multipart/form-data")
    assert missing.status_code == 422 and "Choose a CSV file to upload." in page_text(missing)
    empty = upload(hr, b"")
    assert empty.status_code == 422 and "The file is empty." in page_text(empty)
    too_large = upload(hr, b"x" * (bulk_jobs.MAX_UPLOAD_BYTES + 1))
    assert too_large.status_code == 422 and "larger than 10 MiB" in page_text(too_large)
    assert hr.get("/admin/bulk/progress").status_code == 404
    with app.extensions["microcred"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(bulk_jobs.BulkJob)) == 0


@SQLITE_ONLY
def test_files_above_the_app_wide_one_mebibyte_limit_are_accepted(app):
    hr = Console(app).login("hana")
    big = GOOD + b"\r\n" * (1024 * 1024)            # blank lines are skipped: 2 MiB, 3 rows
    job_id = upload_job(hr, big)
    assert hr.get(f"/admin/bulk/{job_id}/progress").get_json()["total"] == 3


def test_another_issuer_user_can_follow_and_confirm_a_job(app):
    hana, omar = Console(app).login("hana"), Console(app).login("omar")
    job_id = upload_job(hana, GOOD)
    assert "awards.csv" in page_text(omar.get("/admin/bulk"))
    omar.post(f"/admin/bulk/{job_id}/confirm", token_from=f"/admin/bulk/{job_id}")
    assert wait_done(omar, job_id)["state"] == "done"
    assert omar.get(f"/admin/bulk/{job_id}/results.csv").status_code == 200
    own = upload_job(omar, BAD)
    assert len(error_rows(hana.get(f"/admin/bulk/{own}").get_data(as_text=True))) == 1
    assert omar.get("/admin/bulk/00000000-0000-0000-0000-000000000000").status_code == 404


@SQLITE_ONLY
def test_signed_out_visitors_are_refused(app):
    hr = Console(app).login("hana")
    job_id = upload_job(hr, GOOD)
    anonymous = app.test_client()
    for path in ("/admin/bulk", f"/admin/bulk/{job_id}", f"/admin/bulk/{job_id}/progress",
                 f"/admin/bulk/{job_id}/results.csv", "/admin/bulk/template.csv"):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"], path
    confirm = anonymous.post(f"/admin/bulk/{job_id}/confirm", data={})
    assert confirm.status_code in (400, 401)
    upload_refused = anonymous.post("/admin/bulk", data={"file": (io.BytesIO(GOOD), "a.csv")},
                                    content_type="multipart/form-data")
    assert upload_refused.status_code in (400, 401)
    assert hr.get(f"/admin/bulk/{job_id}/progress").get_json()["state"] == "validated"
    with app.extensions["microcred"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(bulk_jobs.BulkJob)) == 1


# ----------------------------------------------------------------------------- in a real browser

def many_rows(count: int, bad_line: int | None = None) -> bytes:
    lines = ["email,name,achievement,awarded_date,external_id"]
    for n in range(1, count + 1):
        achievement = "no-such-badge" if n + 1 == bad_line else "team-leadership"
        lines.append(f"person{n}@example.com,Person {n},{achievement},2026-03-{1 + n % 28:02d},bulk-{n}")
    return ("\r\n".join(lines) + "\r\n").encode()


@SQLITE_ONLY
def test_bulk_issue_in_a_browser(db_url, tmp_path, browser, artifacts_dir, monkeypatch):
    from playwright.sync_api import expect

    real, seen_by_page = bulk.issue_csv, threading.Event()

    def paced(*args, progress=None, **kwargs):
        """Chunks of 10 rows; after the first one the run waits until the page has shown its progress."""
        def gated(done, total):
            progress(done, total)
            if done == 10:
                seen_by_page.wait(DEADLINE)
        return real(*args, progress=gated, **{**kwargs, "chunk_size": 10})

    monkeypatch.setattr(bulk, "issue_csv", paced)

    def factory(base_url):
        app = console_app(tmp_path, db_url, base_url, demo=True)
        add_staff(app, "hana", "issuer", name="Hana HR")
        return app

    bad_file, good_file = tmp_path / "q1-awards.csv", tmp_path / "q1-awards-fixed.csv"
    bad_file.write_bytes(many_rows(60, bad_line=8))
    good_file.write_bytes(many_rows(60))
    with live_console(factory) as (app, base_url):
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            page.on("pageerror", lambda error: errors.append(str(error)))
            browser_login(page, base_url, "hana")
            page.get_by_role("link", name="Bulk issue").click()
            expect(page.get_by_role("heading", name="Bulk issue", level=1)).to_be_visible()

            # a file with one bad row: every row listed, the bad one highlighted with its reason, no Confirm
            page.get_by_label("CSV file").set_input_files(str(bad_file))
            page.get_by_role("button", name="Upload and check").click()
            bad_row = page.locator("tr.row-error")
            expect(bad_row).to_have_count(1)
            expect(bad_row.locator("td").first).to_have_text("8")
            expect(bad_row.locator("td.reason")).to_have_text("There is no achievement 'no-such-badge'.")
            expect(page.locator("table.data tbody tr")).to_have_count(60)
            expect(page.get_by_role("button", name="Confirm and issue")).to_have_count(0)
            assert "1 row of this file has problems" in page.get_by_role("alert").inner_text()
            page.screenshot(path=str(artifacts_dir / "admin-bulk-dry-run-errors.png"), full_page=True)

            # the fixed file: confirm, follow the progress (no reload by hand), download the results
            page.get_by_role("link", name="Upload another file").click()
            page.get_by_label("CSV file").set_input_files(str(good_file))
            page.get_by_role("button", name="Upload and check").click()
            expect(page.locator("tr.row-error")).to_have_count(0)
            expect(page.get_by_text("60 awards will be issued")).to_be_visible()
            page.get_by_role("button", name="Confirm and issue").click()
            bar = page.locator("progress#bulk-progress")
            expect(bar).to_be_visible()
            expect(bar).to_have_attribute("max", "60")
            # the script follows the progress without reloading: 10 rows stored, the run waits for us
            expect(page.locator("#bulk-progress-text")).to_have_text("10 of 60 rows done.", timeout=DEADLINE * 1000)
            expect(bar).to_have_js_property("value", 10)
            page.screenshot(path=str(artifacts_dir / "admin-bulk-progress.png"), full_page=True)
            seen_by_page.set()
            link = page.get_by_role("link", name="Download results (CSV)")
            expect(link).to_be_visible(timeout=DEADLINE * 1000)      # the script reloads the page when done
            expect(page.get_by_text("Done: 60 awards issued, 0 already issued before.")).to_be_visible()
            page.screenshot(path=str(artifacts_dir / "admin-bulk-done.png"), full_page=True)
            with page.expect_download() as info:
                link.click()
            download = info.value
            assert download.suggested_filename.startswith("bulk-results-")
            rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
            assert [(r["line"], r["email"], r["status"]) for r in rows] == \
                [(str(n + 1), f"person{n}@example.com", "issued") for n in range(1, 61)]
            assert all(r["credential_url"] == f"{base_url}/credentials/{r['award_id']}" for r in rows)
            with app.extensions["microcred"].sessions() as session:
                stored = set(session.scalars(select(Award.id).where(Award.id.in_([r["award_id"] for r in rows]))))
            assert stored == {r["award_id"] for r in rows}
            assert errors == []           # no script errors, no CSP violations
            context.close()
        finally:
            seen_by_page.set()              # never leave the run waiting
            app.extensions["microcred"].use.bulk.jobs.wait_all(DEADLINE)
