"""No correctness depends on one process (issue 15 §2): consecutive requests on different servers.

Two app servers, each its own ``create_app`` and instance folder, on one real PostgreSQL
database, sharing what :mod:`tests.issuer.web.two_servers_support` lists (the secret key by
``MICROCRED_SECRET_KEY``, the database, the keys folder, the base URL), served by werkzeug on
loopback; one browser (one ``requests`` cookie jar) sends each request to the server the test
names, request by request. Covered: console sign-in and sign-out, the lock after wrong passwords
(with a shared limits store, on a real Redis), sign-in with an identity provider (a real one on
node), CSRF tokens, REST API idempotency keys (also two at once), a bulk job (upload, dry run,
start, progress, results, and two starts racing on both servers), the employees' sign-in links
and sessions, the mounted verifier, a key rotation, and the same flows through two real
``microcred serve`` processes.

The tests are not vacuous: a third app on the same database with another secret key refuses
the same cookies and tokens (the property that breaks when a deployment does not share the key),
a kept copy of a signed-out cookie is refused (sessions are checked in the database, not in a
process), and a server with a keys folder of its own cannot issue. Skipped without PostgreSQL
locally, failed under ``CI=true`` (``tests/db_fixtures.py``); likewise Redis and the provider.
"""
from __future__ import annotations

import csv
import io
import os
import re
import secrets
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from issuer.access.staff import MAX_FAILED_LOGINS
from issuer.db.models import Award, Recipient
from issuer.instance import SECRET_KEY_ENV, SECRET_KEY_FILE
from tests.admin_support import PASSWORD, Console, add_staff
from tests.issuer.web.two_servers_support import (  # noqa: F401  (database, pair: the module fixtures)
    DEADLINE,
    GOOD,
    NOT_STARTED,
    STARTED,
    Browser,
    Pair,
    Served,
    app_with_secret,
    confirm,
    database,
    microcred_serves,
    newest_sign_in_token,
    page_text,
    pair,
    serve,
    server_settings,
    signed_by,
    signed_in,
    upload,
    verdict,
    wait_done,
)
from tests.oidc_provider import OidcProvider, require_provider

EMPLOYEE = "alex@example.com"


def stranger_get(pair: Pair, cookies: dict[str, str], path: str):
    """``path`` on the app with another secret key, with these cookies (Flask's test client)."""
    client = pair.stranger.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value, domain="127.0.0.1")
    return client.get(path, base_url=pair.a.url)


# --------------------------------------------------------------------------- what the servers share

def test_each_server_has_its_own_instance_folder_and_the_secret_key_comes_from_the_environment(pair):
    folders = [served.app.extensions["microcred"].settings.instance for served in (pair.a, pair.b)]
    assert folders[0] != folders[1]
    assert not any((folder / SECRET_KEY_FILE).exists() for folder in folders)      # $MICROCRED_SECRET_KEY was used
    assert pair.a.app.config["SECRET_KEY"] == pair.b.app.config["SECRET_KEY"] == pair.secret
    assert pair.stranger.config["SECRET_KEY"] != pair.secret


# --------------------------------------------------------------------------- 1. console sign-in

def test_a_console_sign_in_on_one_server_is_valid_on_the_other_and_a_sign_out_ends_it_on_both(pair):
    web = signed_in(pair, form_from=pair.b, post_to=pair.a)         # the form from B, signed in on A
    for server, path in ((pair.b, "/admin/awards"), (pair.a, "/admin/bulk"), (pair.b, "/admin/people")):
        page = web.get(server.url, path)
        assert page.status_code == 200 and "Hana (issuer)" in page_text(page), (server.url, path)
    kept = web.cookies()                                              # a copy of the signed-in cookie
    assert stranger_get(pair, kept, "/admin/awards").status_code == 302      # another secret key: refused
    out = web.post(pair.b.url, "/admin/logout", token=web.token(pair.a.url, "/admin/awards"))
    assert out.status_code == 303 and out.headers["Location"] == "/admin/login"
    for server in (pair.a, pair.b):
        assert web.get(server.url, "/admin/awards").headers["Location"].startswith("/admin/login")
        copy = web.with_cookies(kept).get(server.url, "/admin/awards")      # the kept cookie: ended everywhere
        assert copy.status_code == 302 and copy.headers["Location"].startswith("/admin/login"), server.url


def test_failed_sign_ins_spread_over_both_servers_lock_the_account_for_that_address(pair, redis_url, tmp_path):
    """The lock after :data:`MAX_FAILED_LOGINS` wrong passwords in a row (per account and address) is
    one lock for all servers sharing a limits store (``MICROCRED_RATELIMIT_STORAGE_URI``), whichever
    server each attempt reached; another address is not locked out."""
    apps = [app_with_secret(server_settings(tmp_path / name, pair.database_url, pair.a.url, pair.root / "keys",
                                            redis_url), pair.secret) for name in ("a", "b")]
    try:
        username = f"lock{uuid.uuid4().hex[:8]}"
        add_staff(apps[0], username, "issuer")
        consoles = [Console(app) for app in apps]
        tokens = [console.csrf_token() for console in consoles]

        def attempt(n: int, password: str, address: str = "192.0.2.7") -> int:
            return consoles[n % 2].client.post("/admin/login", data={
                "username": username, "password": password, "csrf_token": tokens[n % 2]},
                environ_base={"REMOTE_ADDR": address}).status_code

        assert [attempt(n, "not the password at all") for n in range(MAX_FAILED_LOGINS)] == [401] * MAX_FAILED_LOGINS
        assert [attempt(n, PASSWORD) for n in range(2)] == [401, 401]        # locked on both servers
        assert attempt(1, PASSWORD, "198.51.100.4") == 303                  # from elsewhere: signed in
    finally:
        for app in apps:
            app.extensions["microcred"].engine.dispose()


def test_a_sign_in_with_the_identity_provider_started_on_one_server_finishes_on_the_other(pair, tmp_path):
    """The pending sign-in (state, nonce, PKCE verifier) rides in the signed session cookie, so the
    provider's answer may reach any server; an answer is still used once, on whichever server."""
    require_provider()
    callback_path = "/oidc/callback"
    with OidcProvider(redirect_uris=[pair.a.url + callback_path], accounts={
            "hana": {"email": "hana.sso@example.com", "email_verified": True, "name": "Hana SSO"}}) as provider:
        environment = {"MICROCRED_OIDC_ISSUER": provider.issuer, "MICROCRED_OIDC_CLIENT_ID": provider.client_id,
                       "MICROCRED_OIDC_CLIENT_SECRET": provider.client_secret, "MICROCRED_OIDC_NAME": "Example SSO",
                       "MICROCRED_OIDC_ALLOW_LOOPBACK_HTTP": "1"}
        with pytest.MonkeyPatch.context() as env:           # read once, by create_app
            for name, value in environment.items():
                env.setenv(name, value)
            servers = [serve(lambda _url, name=name: app_with_secret(server_settings(
                tmp_path / name, pair.database_url, pair.a.url, pair.root / "keys"), pair.secret))
                for name in ("a", "b")]
        try:
            add_staff(servers[0].app, "hana.sso@example.com", "issuer", name="Hana SSO")
            web = Browser(pair.a.url)
            started = web.get(servers[0].url, "/oidc/start?for=staff&next=/admin/awards")       # started on A
            assert started.status_code == 302, started.text
            answer = urlsplit(provider.sign_in(web.http, started.headers["Location"], "hana"))
            finished = web.get(servers[1].url, f"{callback_path}?{answer.query}")              # finished on B
            assert finished.status_code == 303 and finished.headers["Location"] == "/admin/awards", finished.text
            assert "Hana SSO (issuer)" in page_text(web.get(servers[0].url, "/admin/awards"))  # valid on A
            replayed = web.get(servers[0].url, f"{callback_path}?{answer.query}", headers={"Accept": "text/html"})
            assert replayed.status_code == 403 and "already used" in replayed.text           # once, anywhere
        finally:
            for served in servers:
                served.stop()


# --------------------------------------------------------------------------- 2. CSRF

def test_a_form_token_from_one_server_is_accepted_by_the_other_and_forged_ones_by_neither(pair):
    web = signed_in(pair)
    other = signed_in(pair, "omar")
    token_from_a = web.token(pair.a.url, "/admin/awards")
    refused = {"missing": None, "forged": secrets.token_urlsafe(32),
               "another person's": other.token(pair.b.url, "/admin/awards"),
               "another secret key's": _stranger_token(pair)}
    for server in (pair.a, pair.b):
        for kind, token in refused.items():
            answer = web.post(server.url, "/admin/logout", token=token)
            assert answer.status_code == 400 and "Form refused" in answer.text, (kind, server.url)
        assert web.get(server.url, "/admin/awards").status_code == 200      # still signed in
    for server in (pair.a, pair.b):                                         # the /me forms too
        answer = Browser(pair.a.url).post(server.url, "/me/sign-in", {"email": EMPLOYEE})
        assert answer.status_code == 400, server.url
    out = web.post(pair.b.url, "/admin/logout", token=token_from_a)        # A's token, sent to B
    assert out.status_code == 303
    assert web.get(pair.a.url, "/admin/awards").status_code == 302


def _stranger_token(pair: Pair) -> str:
    """A well-formed token signed with another secret key (for a session the stranger app made)."""
    client = pair.stranger.test_client()
    page = client.get("/admin/login", base_url=pair.a.url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


# --------------------------------------------------------------------------- 3. idempotency keys

def test_an_idempotency_key_sent_to_both_servers_issues_once_and_the_other_replays(pair):
    key, body = f"two-servers-{uuid.uuid4()}", {"achievement": "teamwork", "email": "idem@example.com"}
    first = pair.api(pair.a.url, "POST", "/api/v1/awards", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    again = pair.api(pair.b.url, "POST", "/api/v1/awards", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and again.headers["Location"] == first.headers["Location"]
    changed = pair.api(pair.b.url, "POST", "/api/v1/awards", json={**body, "email": "other@example.com"},
                       headers={"Idempotency-Key": key})
    assert changed.status_code == 422 and "different request" in changed.json()["detail"]
    assert pair.count(Award, Award.recipient_id.in_(
        select(Recipient.id).where(Recipient.email.in_(["idem@example.com", "other@example.com"])))) == 1


def test_one_key_sent_to_both_servers_at_once_issues_one_award(pair):
    key, body = f"race-{uuid.uuid4()}", {"achievement": "teamwork", "email": "race@example.com"}
    barrier, answers = threading.Barrier(2), {}

    def send(server: Served) -> None:
        barrier.wait()
        answers[server.url] = pair.api(server.url, "POST", "/api/v1/awards", json=body, headers={"Idempotency-Key": key})

    threads = [threading.Thread(target=send, args=(server,)) for server in (pair.a, pair.b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answer.status_code for answer in answers.values()) == [200, 201], \
        [answer.text for answer in answers.values()]
    assert len({answer.json()["id"] for answer in answers.values()}) == 1
    assert pair.count(Award, Award.recipient_id.in_(select(Recipient.id).where(Recipient.email == "race@example.com"))) \
        == 1


# --------------------------------------------------------------------------- 4. bulk jobs

def test_a_bulk_job_is_uploaded_checked_started_followed_and_downloaded_across_both_servers(pair):
    web = signed_in(pair)
    job_id = upload(web, pair.a.url, GOOD)                                     # upload on A
    dry_run = web.get(pair.b.url, f"/admin/bulk/{job_id}")                 # the dry run on B
    assert dry_run.status_code == 200 and "3 awards will be issued" in page_text(dry_run)
    assert web.get(pair.b.url, f"/admin/bulk/{job_id}/results.csv").status_code == 404    # nothing yet
    path = f"/admin/bulk/{job_id}"
    started = web.post(pair.b.url, f"{path}/confirm", token=web.token(pair.b.url, path))     # start on B
    assert started.status_code == 303
    assert STARTED in page_text(web.get(pair.a.url, path))                 # B's message, shown by A
    assert NOT_STARTED in confirm(web, pair.a.url, job_id)                     # a second start, on A: refused
    progress = wait_done(web, pair.a.url, job_id)                              # followed on A
    assert progress["state"] == "done" and progress["done"] == progress["total"] == 3, progress
    assert progress["summary"]["issued"] == 3
    result = web.get(pair.b.url, f"/admin/bulk/{job_id}/results.csv")     # downloaded from B
    assert result.status_code == 200 and result.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(result.text)))
    assert [(row["email"], row["status"]) for row in rows] == [
        ("ana@example.com", "issued"), ("ben@example.com", "issued"), ("cho@example.com", "issued")]
    assert NOT_STARTED in confirm(web, pair.b.url, job_id)                     # done: refused on either
    assert pair.count(Award, Award.external_key.is_not(None), Award.recipient_id.in_(
        select(Recipient.id).where(Recipient.email.in_(["ana@example.com", "ben@example.com", "cho@example.com"])))) \
        == 3


def test_two_starts_of_one_job_racing_on_both_servers_start_it_once(pair):
    hana, omar = signed_in(pair), signed_in(pair, "omar")
    data = GOOD.replace(b"two-", b"race-").replace(b"@example.com", b".race@example.com")
    job_id = upload(hana, pair.b.url, data)
    path = f"/admin/bulk/{job_id}"
    tokens = {"a": hana.token(pair.a.url, path), "b": omar.token(pair.b.url, path)}
    barrier, pages = threading.Barrier(2), {}

    def press(name: str, web: Browser, server: Served) -> None:
        barrier.wait()
        answer = web.post(server.url, f"{path}/confirm", token=tokens[name])
        assert answer.status_code == 303
        pages[name] = page_text(web.get(server.url, path))

    threads = [threading.Thread(target=press, args=("a", hana, pair.a)),
               threading.Thread(target=press, args=("b", omar, pair.b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    outcomes = sorted(STARTED if STARTED in text else NOT_STARTED if NOT_STARTED in text else text
                      for text in pages.values())
    assert outcomes == [STARTED, NOT_STARTED]                              # compare-and-set: one start
    progress = wait_done(hana, pair.b.url, job_id)
    assert progress["state"] == "done" and progress["summary"]["issued"] == 3, progress


def test_a_bulk_job_sent_to_the_api_of_one_server_is_followed_and_downloaded_on_the_other(pair):
    data = GOOD.replace(b"two-", b"api-").replace(b"@example.com", b".api@example.com") + \
        b"bad.api@example.com,Bad Row,no-such-achievement,api-4\r\n"
    sent = pair.api(pair.a.url, "POST", "/api/v1/awards/bulk?async=true&mode=valid-rows", data=data,
                    headers={"Content-Type": "text/csv"})                    # sent to A: it runs there
    assert sent.status_code == 202, sent.text
    job_id = sent.json()["id"]
    deadline = time.monotonic() + DEADLINE
    while (job := pair.api(pair.b.url, "GET", f"/api/v1/bulk-jobs/{job_id}").json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job                            # followed on B
        time.sleep(0.1)
    assert job["state"] == "done" and job["results_url"] == f"/api/v1/bulk-jobs/{job_id}/results", job
    results = list(csv.DictReader(io.StringIO(pair.api(pair.b.url, "GET", job["results_url"]).text)))
    assert [row["status"] for row in results] == ["issued"] * 3 + ["error"]     # downloaded from B
    rejected = pair.api(pair.a.url, "GET", f"/api/v1/bulk-jobs/{job_id}/rejected")
    assert rejected.status_code == 200 and "bad.api@example.com" in rejected.text


# --------------------------------------------------------------------------- 5. the employees' sign-in

def test_a_sign_in_link_asked_for_on_one_server_works_once_on_the_other(pair):
    issued = pair.api(pair.a.url, "POST", "/api/v1/awards", json={"achievement": "teamwork", "email": EMPLOYEE},
                      headers={"Idempotency-Key": "employee-badge"})
    assert issued.status_code in (200, 201)
    web = Browser(pair.a.url)
    asked = web.post(pair.a.url, "/me/sign-in", {"email": EMPLOYEE}, token=web.token(pair.a.url, "/me/sign-in"))
    assert asked.status_code == 200                                         # asked for on A
    link = f"/me/sign-in/{newest_sign_in_token(pair.a.app, EMPLOYEE)}"
    opened = web.get(pair.b.url, link)                                     # opened on B
    assert opened.status_code == 200
    used = web.post(pair.b.url, link, token=web.token(pair.b.url, link))   # used on B
    assert used.status_code == 303 and used.headers["Location"] == "/me/"
    assert "microcred_me" in web.cookies()
    mine = web.get(pair.a.url, "/me/")                                     # the session, valid on A
    assert mine.status_code == 200 and "Teamwork" in page_text(mine)
    for server in (pair.a, pair.b):                                        # the used link, on either
        again = Browser(pair.a.url)
        assert again.get(server.url, link).status_code == 410
        assert again.post(server.url, link, token=again.token(server.url, "/me/sign-in")).status_code == 410
        assert "microcred_me" not in again.cookies()
    kept = web.cookies()
    out = web.post(pair.a.url, "/me/sign-out", token=web.token(pair.b.url, "/me/"))     # signed out on A
    assert out.status_code == 303
    assert web.with_cookies(kept).get(pair.b.url, "/me/").status_code == 302            # ended on B too


# --------------------------------------------------------------------------- 6. the mounted verifier

def test_the_mounted_verifier_of_either_server_judges_awards_issued_and_revoked_through_the_other(pair):
    """The mounted verifier keeps no per-person state (no session, no form token): its fetch cache
    holds public documents no longer than their max-age, its limits are the shared ones. What
    matters is that it reads the issuer's published state, whichever server changed it."""
    ids = []
    for email in ("kept@example.com", "revoked@example.com"):
        issued = pair.api(pair.a.url, "POST", "/api/v1/awards", json={"achievement": "teamwork", "email": email})
        assert issued.status_code == 201
        ids.append(issued.json()["id"])
    revoked = pair.api(pair.a.url, "POST", f"/api/v1/awards/{ids[1]}/revoke", json={"reason": "issued by mistake"})
    assert revoked.status_code == 200 and revoked.json()["changed"] is True
    outcomes = []
    for award_id in ids:
        credential = pair.api(pair.b.url, "GET", f"/api/v1/awards/{award_id}").json()["credential"]
        report = requests.post(f"{pair.b.url}/verify/api/verify", json={"credential": credential}, timeout=60)
        assert report.status_code == 200, report.text
        body = report.json()
        outcomes.append((body["outcome"], [c["check"] for c in body["checks"] if c["status"] == "failed"]))
    assert outcomes == [("verified", []), ("not_verified", ["status"])], outcomes


def test_a_key_rotated_through_one_server_signs_on_the_other_and_both_keys_verify(pair, tmp_path):
    """The signing keys are files in the keys folder the database names: every server must see the
    same folder. A server with a folder of its own cannot issue once the key was rotated elsewhere."""
    before = pair.api(pair.b.url, "POST", "/api/v1/awards", json={"achievement": "teamwork",
                                                                  "email": "before.rotation@example.com"})
    assert before.status_code == 201
    web = signed_in(pair, "ada")
    rotated = web.post(pair.a.url, "/admin/keys/rotate", {"confirm": "yes"},
                       token=web.token(pair.b.url, "/admin/keys"))                    # rotated on A
    assert rotated.status_code == 303
    assert "is current" in page_text(web.get(pair.b.url, "/admin/keys"))              # the message, on B
    after = pair.api(pair.b.url, "POST", "/api/v1/awards", json={"achievement": "teamwork",
                                                                 "email": "after.rotation@example.com"})
    assert after.status_code == 201, after.text                                       # issued on B
    methods = []
    for award in (before, after):
        credential = pair.api(pair.a.url, "GET", f"/api/v1/awards/{award.json()['id']}").json()["credential"]
        methods.append(signed_by(credential))
        assert verdict(pair.a.url, credential) == "verified"
    assert methods[0] != methods[1]
    refused = _issue_with_own_keys_folder(pair, tmp_path, "own.keys@example.com")
    assert refused.status_code >= 400
    assert pair.count(Award, Award.recipient_id.in_(select(Recipient.id).where(
        Recipient.email == "own.keys@example.com"))) == 0


def _issue_with_own_keys_folder(pair: Pair, tmp_path: Path, email: str):
    """An issue request to a server configured with a keys folder of its own (an empty one)."""
    lone = app_with_secret(server_settings(tmp_path / "lone", pair.database_url, pair.a.url, tmp_path / "own-keys"),
                           pair.secret)
    try:
        return lone.test_client().post("/api/v1/awards", json={"achievement": "teamwork", "email": email},
                                       headers={"Authorization": f"Bearer {pair.token}"})
    finally:
        lone.extensions["microcred"].engine.dispose()


def test_a_server_without_the_key_file_answers_503_and_names_no_server_path(pair, tmp_path):
    refused = _issue_with_own_keys_folder(pair, tmp_path, "no.key.file@example.com")
    assert refused.status_code == 503 and str(tmp_path) not in refused.get_data(as_text=True)
    assert refused.get_json()["code"] == "key_file_missing"


# --------------------------------------------------------------------------- real processes

def test_two_microcred_serve_processes_share_sign_ins_forms_keys_bulk_jobs_and_sign_in_links(pair):
    """Two ``microcred serve`` processes on the module's database, with the module's secret key, keys
    folder and base URL; a third one without ``$MICROCRED_SECRET_KEY`` (it makes a secret file of its
    own, as each server of a deployment that shares no key would) refuses what the others accept."""
    common = {**os.environ, "DATABASE_URL": pair.database_url, "MICROCRED_KEYS": str(pair.root / "keys"),
              "MICROCRED_BASE_URL": pair.a.url}
    common.pop(SECRET_KEY_ENV, None)
    envs = [{**common, "MICROCRED_INSTANCE": str(pair.root / f"p{n}" / "instance"), SECRET_KEY_ENV: pair.secret}
            for n in (1, 2)] + [{**common, "MICROCRED_INSTANCE": str(pair.root / "p3" / "instance")}]
    with microcred_serves(envs) as (one, two, lone):
        web = Browser(pair.a.url)
        answer = web.post(one, "/admin/login", {"username": "hana", "password": PASSWORD},
                          token=web.token(two, "/admin/login"))
        assert answer.status_code == 303, answer.text
        assert "Hana (issuer)" in page_text(web.get(two, "/admin/awards"))
        assert "Hana (issuer)" in page_text(web.get(pair.b.url, "/admin/awards"))    # and the werkzeug servers
        assert web.get(lone, "/admin/awards").status_code == 302                     # its own secret: refused
        assert web.post(two, "/admin/logout", token=secrets.token_urlsafe(32)).status_code == 400
        # an idempotency key: issued through one process, replayed by the other
        key, body = f"serve-{uuid.uuid4()}", {"achievement": "teamwork", "email": "serve@example.com"}
        answers = [pair.api(url, "POST", "/api/v1/awards", json=body, headers={"Idempotency-Key": key})
                   for url in (one, two)]
        assert [a.status_code for a in answers] == [201, 200] and answers[0].json() == answers[1].json()
        # a key rotated through the other process while this one holds the old key loaded: it signs with the new
        signed = []
        for n, rotate in enumerate((False, True)):
            if rotate:
                admin = Browser(pair.a.url)
                admin.post(two, "/admin/login", {"username": "ada", "password": PASSWORD},
                           token=admin.token(two, "/admin/login"))
                assert admin.post(two, "/admin/keys/rotate", {"confirm": "yes"},
                                  token=admin.token(two, "/admin/keys")).status_code == 303
            award = pair.api(one, "POST", "/api/v1/awards", json={"achievement": "teamwork",
                                                                  "email": f"rotation{n}.serve@example.com"})
            assert award.status_code == 201, award.text
            signed.append(pair.api(two, "GET", f"/api/v1/awards/{award.json()['id']}").json()["credential"])
        assert signed_by(signed[0]) != signed_by(signed[1])
        assert [verdict(two, credential) for credential in signed] == ["verified", "verified"]
        # a bulk job: uploaded through one, started through the other (it runs there), followed and
        # downloaded through the first, started again through the first: refused
        data = GOOD.replace(b"two-", b"serve-").replace(b"@example.com", b".serve@example.com")
        job_id = upload(web, one, data)
        path = f"/admin/bulk/{job_id}"
        assert "3 awards will be issued" in page_text(web.get(two, path))
        assert web.post(two, f"{path}/confirm", token=web.token(one, path)).status_code == 303
        assert STARTED in page_text(web.get(one, path))
        progress = wait_done(web, one, job_id)
        assert progress["state"] == "done" and progress["summary"]["issued"] == 3, progress
        assert web.post(one, f"{path}/confirm", token=web.token(two, path)).status_code == 303
        assert NOT_STARTED in page_text(web.get(two, path))
        results = list(csv.DictReader(io.StringIO(web.get(one, f"{path}/results.csv").text)))
        assert [row["status"] for row in results] == ["issued"] * 3
        kept = web.cookies()
        out = web.post(two, "/admin/logout", token=web.token(one, "/admin/awards"))
        assert out.status_code == 303
        assert web.with_cookies(kept).get(one, "/admin/awards").status_code == 302
        # an employee's sign-in link: asked for through one, used through the other
        me = Browser(pair.a.url)
        asked = me.post(two, "/me/sign-in", {"email": "ana.serve@example.com"}, token=me.token(one, "/me/sign-in"))
        assert asked.status_code == 200
        link = f"/me/sign-in/{newest_sign_in_token(pair.a.app, 'ana.serve@example.com')}"
        assert me.post(one, link, token=me.token(two, link)).status_code == 303
        assert "Teamwork" in page_text(me.get(two, "/me/"))
        assert me.get(lone, "/me/").status_code == 200               # the employee cookie is not signed
        assert Browser(pair.a.url).get(two, link).status_code == 410
