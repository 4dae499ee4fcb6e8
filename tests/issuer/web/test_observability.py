"""Readiness, metrics, request ids and JSON logs (issue 15 §3), against the real app on SQLite.

The Flask test client answers from 127.0.0.1 (a loopback client may read ``/metrics``); the
verifications run against a live server on loopback (the mounted verifier resolves this issuer's
own did:web), the mail failure against a real SMTP server on loopback that refuses, and the JSON
logs come from a real ``microcred serve --log-format json`` subprocess.
"""
from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from issuer.personal_data import logs_json
from issuer.web.observability import request_id_for
from tests.admin_support import console_app, live_console
from tests.db_fixtures import _admin
from tests.issuer.mail.test_mail import Inbox, _start
from tests.issuer.serve_support import serve_instance

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
EMAIL, NAME = "quentin.marlow@example.org", "Quentin Marlow"
OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics answer: (name, sorted labels) -> value."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return response.get_data(as_text=True)


@pytest.fixture()
def app(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("MICROCRED_SMTP_HOST", raising=False)
    monkeypatch.delenv("MICROCRED_METRICS_TOKEN", raising=False)
    app = console_app(tmp_path, db_url, demo=True)
    yield app
    app.extensions["microcred"].engine.dispose()


# ---------------------------------------------------------------- readiness

def test_readyz_is_ready_with_the_database_and_reports_the_outbox(app):
    response = app.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert body["status"] == "ready" and body["checks"]["database"]["ok"] is True
    assert body["checks"]["mail_outbox"] == {"ok": True, "required": False, "due": 0, "failing": 0}
    assert app.test_client().get("/healthz").get_json() == {"status": "ok"}      # liveness unchanged


def test_readyz_is_503_when_the_database_is_unreachable(app, request):
    state = app.extensions["microcred"]
    state.engine.dispose()
    if state.engine.dialect.name == "sqlite":
        database = Path(state.engine.url.database)
        database.unlink()
        database.mkdir()             # no database file can be opened there any more
    else:                            # PostgreSQL: the database is dropped under the app
        _admin(request.getfixturevalue("postgres_url"), f'DROP DATABASE "{state.engine.url.database}" WITH (FORCE)')
    response = app.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": False, "required": True, "error": "OperationalError"}
    assert app.test_client().get("/metrics").status_code == 200            # the counters still answer
    if state.engine.dialect.name == "sqlite":
        shutil.rmtree(database)


# ---------------------------------------------------------------- metrics access

@SQLITE_ONLY
def test_metrics_answer_loopback_clients_only_without_a_token(app):
    client = app.test_client()
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404   # via a proxy
    assert client.get("/metrics", headers={"Forwarded": "for=203.0.113.9"}).status_code == 404


@SQLITE_ONLY
def test_metrics_with_a_token_need_it_from_everywhere(app):
    app.config["METRICS_TOKEN"] = "s3cret-token-for-scrapers"
    client = app.test_client()
    assert client.get("/metrics").status_code == 404                                 # loopback is not enough
    for wrong in ("Bearer s3cret-token-for-scraper", "s3cret-token-for-scrapers", "Bearer ", "Basic x"):
        assert client.get("/metrics", headers={"Authorization": wrong}).status_code == 404
    good = client.get("/metrics", environ_base=OUTSIDE,
                      headers={"Authorization": "Bearer s3cret-token-for-scrapers"})
    assert good.status_code == 200 and "microcred_http_requests_total" in good.get_data(as_text=True)


# ---------------------------------------------------------------- requests and request ids

@SQLITE_ONLY
def test_requests_are_counted_by_endpoint_name_and_status_class_never_by_path(app):
    client = app.test_client()
    before = scrape(client)
    for _ in range(3):
        client.get("/healthz")
    client.get(f"/nowhere/{EMAIL}")
    client.get("/credentials/0b5e7f5c-1c1e-4d7a-9a55-3f1d2a0b9c11")
    after = scrape(client)
    counted = "microcred_http_requests_total"
    assert value(after, counted, endpoint="public.healthz", status="2xx") - \
        value(before, counted, endpoint="public.healthz", status="2xx") == 3
    assert value(after, counted, endpoint="unmatched", status="4xx") - \
        value(before, counted, endpoint="unmatched", status="4xx") == 1
    assert value(after, "microcred_http_request_seconds_count", endpoint="public.healthz", status="2xx") >= 3
    assert "0b5e7f5c" not in after and "nowhere" not in after and EMAIL not in after


@SQLITE_ONLY
def test_a_well_formed_request_id_is_kept_and_any_other_replaced(app):
    client = app.test_client()
    assert client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.9c_01:2"}).headers["X-Request-Id"] == \
        "lb-7f3a.9c_01:2"
    for bad in ("x" * 65, "two words", "<script>", EMAIL):
        given = client.get("/healthz", headers={"X-Request-Id": bad}).headers["X-Request-Id"]
        assert given != bad and len(given) == 32 and int(given, 16) >= 0
    made = {client.get("/nowhere").headers["X-Request-Id"] for _ in range(3)}       # errors too; each its own
    assert len(made) == 3
    assert request_id_for(None) != request_id_for(None)


# ---------------------------------------------------------------- awards and mail

def test_awards_issued_are_counted_by_path_once_and_not_on_replay(app):
    client, use = app.test_client(), app.extensions["microcred"].use
    before = scrape(client)
    first = use.awards.issue({"achievement": "team-leadership", "email": EMAIL}, actor="staff:hana",
                             notify=False).award
    use.awards.issue({"achievement": "team-leadership", "email": "b@example.org"}, actor="api:token-1",
                     external_id="k-1", notify=False)
    use.awards.issue({"achievement": "team-leadership", "email": "b@example.org"}, actor="api:token-1",
                     external_id="k-1", notify=False)                               # a replay: not a new award
    use.status.renew(first.id, actor="cli")                                       # a renewal: a new award
    after = scrape(client)
    name = "microcred_awards_issued_total"
    assert value(after, name, path="single") - value(before, name, path="single") == 2
    assert value(after, name, path="api") - value(before, name, path="api") == 1


@SQLITE_ONLY
def test_a_refused_email_counts_as_a_mail_failure_and_shows_in_the_outbox_gauge(app, monkeypatch):
    inbox = Inbox("554 Transaction failed: no thanks")
    controller = _start(inbox)
    monkeypatch.setenv("MICROCRED_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MICROCRED_SMTP_PORT", str(inbox.port))
    monkeypatch.setenv("MICROCRED_SMTP_STARTTLS", "false")
    monkeypatch.setenv("MICROCRED_MAIL_FROM", "People Team <people@example.com>")
    client, use = app.test_client(), app.extensions["microcred"].use
    try:
        before = scrape(client)
        use.awards.issue({"achievement": "team-leadership", "email": EMAIL, "name": NAME}, actor="staff:hana")
        use.awards.deliver_mail()                      # still refused: counted again
    finally:
        controller.stop()
    after = scrape(client)
    name = "microcred_mail_failures_total"
    assert value(after, name, kind="awarded") - value(before, name, kind="awarded") >= 1
    assert value(after, "microcred_mail_outbox_messages", state="failing") == 1
    ready = client.get("/readyz").get_json()
    assert ready["status"] == "ready" and ready["checks"]["mail_outbox"]["failing"] == 1   # reported, not fatal
    assert EMAIL not in after and NAME not in after


BULK = (b"email,name,achievement,awarded_date,external_id\r\n"
        b"ana@example.com,Ana Lopez,team-leadership,2026-01-15,hr-1\r\n"
        b"ben@example.com,Ben Okafor,coaching-feedback,2026-02-01,hr-2\r\n"
        b"cho@example.com,Cho Park,team-leadership,,hr-3\r\n")


@SQLITE_ONLY
def test_a_bulk_run_counts_its_awards_once(app):
    client, use = app.test_client(), app.extensions["microcred"].use
    before = scrape(client)
    assert use.bulk.run(BULK, actor="staff:hana", workers=1).issued == 3
    assert use.bulk.run(BULK, actor="staff:hana", workers=1).issued == 0        # issued before: not counted
    after = scrape(client)
    name = "microcred_awards_issued_total"
    assert value(after, name, path="bulk") - value(before, name, path="bulk") == 3


# ---------------------------------------------------------------- verifications

@SQLITE_ONLY
def test_verifications_are_counted_by_outcome(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("MICROCRED_SMTP_HOST", raising=False)
    elsewhere = console_app(tmp_path / "elsewhere", f"sqlite:///{tmp_path / 'elsewhere.db'}",
                            base_url="https://hr.example.com", demo=True)
    foreign = elsewhere.extensions["microcred"].use.awards.issue(     # its keys cannot be fetched from here
        {"achievement": "team-leadership", "email": EMAIL}, actor="staff:hana", notify=False).award.credential
    elsewhere.extensions["microcred"].engine.dispose()
    with live_console(lambda base: console_app(tmp_path, db_url, base_url=base, demo=True)) as (app, base):
        award = app.extensions["microcred"].use.awards.issue(
            {"achievement": "team-leadership", "email": EMAIL, "name": NAME}, actor="staff:hana", notify=False).award
        before = requests.get(f"{base}/metrics", timeout=20).text
        credential = json.loads(award.credential)
        tampered = json.loads(award.credential)
        tampered["name"] = "Something else"
        for body in ({"url": f"{base}/credentials/{award.id}"}, {"credential": json.dumps(credential)},
                     {"credential": json.dumps(tampered)},
                     {"credential": foreign}):
            assert requests.post(f"{base}/verify/api/verify", json=body, timeout=60).status_code == 200
        after = requests.get(f"{base}/metrics", timeout=20).text
    name = "microcred_verifications_total"
    assert value(after, name, outcome="verified") - value(before, name, outcome="verified") == 2
    assert value(after, name, outcome="not_verified") - value(before, name, outcome="not_verified") == 1
    assert value(after, name, outcome="indeterminate") - value(before, name, outcome="indeterminate") == 1


# ---------------------------------------------------------------- logs and personal data

@SQLITE_ONLY
def test_a_whole_issue_to_revoke_flow_leaves_no_email_or_name_in_json_logs_or_metrics(app):
    stream = io.StringIO()
    handler = logs_json.install_json_logging(stream)
    client, use = app.test_client(), app.extensions["microcred"].use
    try:
        award = use.awards.issue({"achievement": "team-leadership", "email": EMAIL, "name": NAME},
                                 actor="staff:hana").award
        client.get(f"/credentials/{award.id}", headers={"X-Request-Id": "flow-1"})
        client.get(f"/admin/awards?recipient={EMAIL}&name={NAME}", headers={"X-Request-Id": "flow-2"})
        client.get(f"/nowhere/{NAME}/{EMAIL}", headers={"X-Request-Id": "flow-3"})
        client.post("/verify/api/verify", json={"credential": award.credential, "recipient": EMAIL})
        use.status.change_status(award.id, "revoke", {"reason": f"{NAME} left"}, actor="staff:hana")
        assert client.get(f"/credentials/{award.id}").status_code in (200, 410)
        logging.getLogger("issuer.mail.outbox").warning("could not send to %s", EMAIL)   # a careless record
        metrics = scrape(client)
    finally:
        logging.getLogger("issuer").removeHandler(handler)
    lines = stream.getvalue().splitlines()
    records = [json.loads(line) for line in lines]                     # every line is one JSON object
    by_id = {r["request_id"]: r for r in records if r["logger"] == "issuer.access"}
    assert by_id["flow-1"]["endpoint"] == "pages.credential" and by_id["flow-1"]["status"] == 200
    assert by_id["flow-2"]["path"] == "/admin/awards"                  # no query string
    assert by_id["flow-3"]["path"] == "[no route]" and by_id["flow-3"]["status"] == 404
    assert all(r["request_id"] for r in records if r["logger"] == "issuer.access")
    assert any(r["message"] == "could not send to [address]" for r in records)
    for text in (stream.getvalue(), metrics):
        assert EMAIL.lower() not in text.lower() and NAME.lower() not in text.lower()
        assert "quentin" not in text.lower()


def test_microcred_serve_writes_json_logs_with_the_request_id(tmp_path: Path, monkeypatch):
    process, base = serve_instance(tmp_path, monkeypatch, env={"MICROCRED_LOG_FORMAT": "json"},
                                   stderr=subprocess.PIPE)
    try:
        answers = [requests.get(f"{base}/healthz", headers={"X-Request-Id": "probe-1"}, timeout=20),
                   requests.get(f"{base}/readyz", timeout=20),
                   requests.get(f"{base}/admin/awards?recipient={EMAIL}", allow_redirects=False, timeout=20)]
        metrics = requests.get(f"{base}/metrics", timeout=20)
    finally:
        process.terminate()
        output, errors = process.communicate(timeout=30)
    assert answers[0].headers["X-Request-Id"] == "probe-1" and answers[1].status_code == 200
    assert metrics.status_code == 200 and 'endpoint="public.healthz"' in metrics.text
    records = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    access = {r["request_id"]: r for r in records if r["logger"] == "issuer.access"}
    assert access["probe-1"]["endpoint"] == "public.healthz" and access["probe-1"]["status"] == 200
    assert {answer.headers["X-Request-Id"] for answer in answers} <= set(access)
    assert "listening on" in output and '"GET /' not in output      # gunicorn's text access log is off
    assert EMAIL not in errors + output and "recipient=" not in errors


def test_with_a_multiprocess_folder_metrics_sum_every_gunicorn_worker(tmp_path: Path, monkeypatch):
    folder = tmp_path / "metrics"
    folder.mkdir()
    process, base = serve_instance(tmp_path, monkeypatch, workers=2, child_env={"PROMETHEUS_MULTIPROC_DIR": str(folder)},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(12):                              # a new connection each: both workers answer some
            with requests.Session() as fresh:
                assert fresh.get(f"{base}/healthz", timeout=20).ok
        metrics = requests.get(f"{base}/metrics", timeout=20).text
        pids = {p.name for p in folder.glob("counter_*.db")}
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert pids                                          # the workers counted into the folder (one file each)
    assert value(metrics, "microcred_http_requests_total", endpoint="public.healthz", status="2xx") == 12
