"""Serving the public documents to caches and CDNs (issuer.web.caching, docs/caching.md).

Real app on a real SQLite database (PostgreSQL too for the revocation and date tests), through
the Flask test client and over real HTTP on loopback. The last tests put a small cache that follows RFC 9111 (fresh until max-age, then
revalidates with the validators it was given; keyed on URL and the ``Vary`` headers) in front
of the issuer, with an injected clock, and check that a revocation reaches a recruiter's
verifier through it within the documented time and no later.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from issuer.awards.lifecycle import change_status
from issuer.config import Settings, load_settings
from issuer.db.models import Award
from issuer.identity import did_document_url, load_issuer
from issuer.keys.keyring import add_key
from issuer.web import create_app
from issuer.web.caching import Freshness, max_age
from tests.issuer.web.test_app import seed, stored
from verifier import verify_credential

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
HTML = {"Accept": "text/html"}
STRONG_ETAG = r'"[0-9a-f]{40}"'


def make_settings(tmp_path: Path, db_url: str, base_url: str = "https://hr.example.com") -> Settings:
    return load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys", database_url=db_url,
                         base_url=base_url)


@pytest.fixture()
def app(db_url, tmp_path) -> Iterator[Flask]:
    app = create_app(make_settings(tmp_path, db_url))
    yield app
    app.extensions["microcred"].engine.dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


def revoke(app: Flask, award_id: str) -> None:
    state = app.extensions["microcred"]
    change_status(state.sessions, state.settings, award_id, "revoke", reason="left the team", actor="test")


def rotate(app: Flask) -> None:
    state = app.extensions["microcred"]
    with state.sessions.begin() as session:
        add_key(session, state.settings, load_issuer(session, state.settings))


def status_paths(app: Flask, award_id: str) -> dict[str, str]:
    """purpose -> the path of the status list the award's credential names for it."""
    entries = json.loads(stored(app, award_id).credential)["credentialStatus"]
    entries = entries if isinstance(entries, list) else [entries]
    base = app.extensions["microcred"].settings.base_url
    return {e["statusPurpose"]: e["statusListCredential"].removeprefix(base) for e in entries}


def status_path(app: Flask, award_id: str) -> str:
    return status_paths(app, award_id)["revocation"]


def documents(app: Flask, award_id: str) -> dict[str, tuple[str, dict[str, str], str]]:
    """path -> (Cache-Control, request headers, media type) of every cacheable public document."""
    return {
        "/.well-known/did.json": (Freshness.IDENTITY, {}, "application/did+json"),
        "/.well-known/jwks.json": (Freshness.IDENTITY, {}, "application/json"),
        "/issuer": (Freshness.IDENTITY, {}, "application/ld+json"),
        f"/achievements/{stored(app, award_id).achievement_id}": (Freshness.IDENTITY, {}, "application/ld+json"),
        status_path(app, award_id): (Freshness.STATUS_LIST, {}, "application/vc+ld+json"),
        f"/credentials/{award_id}": (Freshness.CREDENTIAL, {}, "application/vc+ld+json"),
        f"/credentials/{award_id}.jwt": (Freshness.CREDENTIAL, {}, "application/vc+jwt"),
        f"/credentials/{award_id} (page)": (Freshness.LIVE, HTML, "text/html"),
    }


def get(client, path: str, headers: Mapping[str, str] | None = None):
    return client.get(path.removesuffix(" (page)"), headers=dict(headers or {}))


# --- the headers of each document --------------------------------------------------------------

@SQLITE_ONLY
def test_each_public_document_sends_its_cache_headers_and_a_strong_etag(app, client):
    award_id = seed(app)
    award = stored(app, award_id)
    for path, (cache, headers, mimetype) in documents(app, award_id).items():
        response = get(client, path, headers)
        assert response.status_code == 200 and response.mimetype == mimetype, path
        assert response.headers["Cache-Control"] == cache, path
        assert response.headers["ETag"].startswith('"') and not response.headers["ETag"].startswith("W/"), path
        if mimetype != "text/html":
            assert response.headers["Access-Control-Allow-Origin"] == "*", path
    # Last-Modified only where a stored time moves with every change of the bytes
    for path in ("/.well-known/did.json", "/.well-known/jwks.json", "/issuer", f"/credentials/{award_id} (page)"):
        assert "Last-Modified" not in get(client, path, HTML if "page" in path else {}).headers, path
    issued = award.created_at.replace(microsecond=0, tzinfo=None)
    for path in (f"/credentials/{award_id}", f"/credentials/{award_id}.jwt"):
        assert parsedate_to_datetime(client.get(path).headers["Last-Modified"]).replace(tzinfo=None) == issued
    assert "Last-Modified" in client.get(status_path(app, award_id)).headers
    health = client.get("/healthz")
    assert health.headers["Cache-Control"] == "no-store" and "ETag" not in health.headers


@SQLITE_ONLY
def test_the_negotiated_credential_url_varies_on_accept_and_each_representation_has_its_own_etag(app, client):
    award_id = seed(app)
    path = f"/credentials/{award_id}"
    tags = {}
    for accept in ("application/vc+ld+json", "application/ld+json", "application/json", "application/vc+jwt",
                   "text/plain", "text/html"):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 200 and response.headers["Vary"] == "Accept", accept
        tags[accept] = response.headers["ETag"]
    assert len(set(tags.values())) == len(tags)         # same bytes, other label: another representation
    # the JSON's tag does not make the page "not modified"
    assert client.get(path, headers={**HTML, "If-None-Match": tags["application/json"]}).status_code == 200
    assert "Vary" not in client.get(f"{path}.jwt").headers           # one representation only


@SQLITE_ONLY
def test_the_same_document_gets_the_same_etag_on_every_request(app, client):
    award_id = seed(app)
    for path, (_, headers, _) in documents(app, award_id).items():
        assert get(client, path, headers).headers["ETag"] == get(client, path, headers).headers["ETag"], path


# --- conditional requests ---------------------------------------------------------------------

@SQLITE_ONLY
def test_if_none_match_with_the_current_etag_is_304_with_no_body_and_the_same_headers(app, client):
    award_id = seed(app)
    for path, (cache, headers, _) in documents(app, award_id).items():
        full = get(client, path, headers)
        etag = full.headers["ETag"]
        for validator in (etag, f'"0000", {etag}', "*"):
            again = get(client, path, {**headers, "If-None-Match": validator})
            assert again.status_code == 304, (path, validator)
            assert again.data == b"", path
            assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == cache, path
            assert again.headers.get("Vary") == full.headers.get("Vary"), path
        other = get(client, path, {**headers, "If-None-Match": '"not-this-one"'})
        assert other.status_code == 200 and other.data == full.data, path


def test_if_modified_since_where_a_time_is_sent_and_never_a_304_from_a_date_alone_elsewhere(app, client):
    award_id = seed(app)
    for path in (status_path(app, award_id), f"/credentials/{award_id}"):
        modified = client.get(path).headers["Last-Modified"]
        earlier = format_datetime(parsedate_to_datetime(modified) - timedelta(seconds=1), usegmt=True)
        assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304, path
        assert client.get(path, headers={"If-Modified-Since": earlier}).status_code == 200, path
        # If-None-Match decides when both are sent (RFC 9110 §13.2.2)
        both = client.get(path, headers={"If-Modified-Since": modified, "If-None-Match": '"stale"'})
        assert both.status_code == 200, path
    # no Last-Modified: a date alone can never claim "not modified"
    for path in ("/.well-known/did.json", "/.well-known/jwks.json", "/issuer"):
        assert client.get(path, headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}).status_code == 200


@SQLITE_ONLY
def test_errors_are_never_cached_nor_304(app, client):
    seed(app)
    for path in ("/credentials/0b5e7f5c-1c1e-4d7a-9a55-3f1d2a0b9c11", "/status/revocation/99"):
        response = client.get(path, headers={"If-None-Match": "*"})
        assert response.status_code == 404 and response.headers["Cache-Control"] == "no-store", path
        assert "ETag" not in response.headers


# --- a changed document has a new tag -------------------------------------------------------------

@SQLITE_ONLY
def test_a_key_rotation_changes_the_did_document_and_jwks(app, client):
    seed(app)
    before = {path: client.get(path).headers["ETag"] for path in ("/.well-known/did.json", "/.well-known/jwks.json")}
    rotate(app)
    for path, etag in before.items():
        response = client.get(path, headers={"If-None-Match": etag})
        assert response.status_code == 200 and response.headers["ETag"] != etag, path
        assert "#key-2" in response.get_data(as_text=True), path


def test_a_revocation_changes_the_status_list_and_the_badge_page_but_not_the_signed_credential(app, client):
    award_id = seed(app)
    status, credential, page = status_path(app, award_id), f"/credentials/{award_id}", (f"/credentials/{award_id}", HTML)
    before = {status: client.get(status).headers, credential: client.get(credential).headers,
              "page": client.get(page[0], headers=page[1]).headers}
    revoke(app, award_id)
    changed = client.get(status, headers={"If-None-Match": before[status]["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != before[status]["ETag"]
    assert parsedate_to_datetime(changed.headers["Last-Modified"]) >= parsedate_to_datetime(
        before[status]["Last-Modified"])
    new_page = client.get(page[0], headers={**page[1], "If-None-Match": before["page"]["ETag"]})
    assert new_page.status_code == 200 and "Revoked" in new_page.get_data(as_text=True)
    # the signed bytes never change: the credential still revalidates as not modified
    assert client.get(credential, headers={"If-None-Match": before[credential]["ETag"]}).status_code == 304


@SQLITE_ONLY
def test_an_erased_award_answers_410_to_a_revalidating_cache(app, client):
    award_id = seed(app, email="pat.doe@example.com")
    path = f"/credentials/{award_id}"
    etag = client.get(path).headers["ETag"]
    app.extensions["microcred"].use.people.erase("pat.doe@example.com", actor="staff:root")
    for headers in ({}, HTML):
        gone = client.get(path, headers={**headers, "If-None-Match": etag})
        assert gone.status_code == 410 and gone.headers["Cache-Control"] == "no-store"
        assert "ETag" not in gone.headers


# --- through a cache that honours the headers ---------------------------------------------------------

@dataclass
class Entry:
    stored_at: float
    status: int
    headers: dict[str, str]
    body: bytes
    request_headers: dict[str, str]


@dataclass
class Cache:
    """A shared cache as RFC 9111 describes it, reduced to what these documents use: stores 200
    responses that are not ``no-store``, keyed on URL plus the request headers named in ``Vary``;
    serves an entry while its age is below ``max-age`` (``no-cache``: never without asking); then
    revalidates with ``If-None-Match`` and ``If-Modified-Since``, a 304 refreshing the entry."""

    fetch: Callable[[str, dict[str, str]], tuple[int, dict[str, str], bytes]]
    clock: Callable[[], float]
    entries: dict[str, list[Entry]] = field(default_factory=dict)
    origin_requests: list[tuple[str, int]] = field(default_factory=list)

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> bytes:
        asked = {k.lower(): v for k, v in (headers or {}).items()}
        entry = next((e for e in self.entries.get(url, []) if self._matches(e, asked)), None)
        if entry is not None and self.clock() - entry.stored_at < self._lifetime(entry):
            return entry.body
        conditional = dict(asked)
        if entry is not None:
            conditional["if-none-match"] = entry.headers["etag"]
            if "last-modified" in entry.headers:
                conditional["if-modified-since"] = entry.headers["last-modified"]
        status, response_headers, body = self.fetch(url, conditional)
        self.origin_requests.append((url, status))
        if status == 304 and entry is not None:
            assert response_headers["etag"] == entry.headers["etag"] and body == b""
            entry.stored_at = self.clock()
            entry.headers.update(response_headers)
            return entry.body
        assert status == 200, (url, status)
        if "no-store" not in response_headers.get("cache-control", ""):
            variants = [e for e in self.entries.get(url, []) if not self._matches(e, asked)]
            self.entries[url] = [*variants, Entry(self.clock(), status, response_headers, body, asked)]
        return body

    @staticmethod
    def _matches(entry: Entry, asked: dict[str, str]) -> bool:
        names = [n.strip().lower() for n in entry.headers.get("vary", "").split(",") if n.strip()]
        return all(entry.request_headers.get(n) == asked.get(n) for n in names)

    @staticmethod
    def _lifetime(entry: Entry) -> float:
        directives = [d.strip() for d in entry.headers.get("cache-control", "").split(",")]
        if "no-cache" in directives:
            return 0
        ages = [int(d.split("=", 1)[1]) for d in directives if d.startswith("max-age=")]
        return ages[0] if ages else 0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Live:
    app: Flask
    base_url: str


@pytest.fixture()
def live(db_url, tmp_path) -> Iterator[Live]:
    """The app on a real loopback HTTP server; its base URL is the server's own address."""
    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = create_app(make_settings(tmp_path, db_url, base_url))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(holder["app"], base_url)
    finally:
        server.shutdown()
        server.server_close()
        holder["app"].extensions["microcred"].engine.dispose()


def over_http(session: requests.Session) -> Callable[[str, dict[str, str]], tuple[int, dict[str, str], bytes]]:
    def fetch(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        response = session.get(url, headers=headers, timeout=10)
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content
    return fetch


def verdict_through(cache: Cache, app: Flask, award_id: str) -> tuple[bool, str | None]:
    """What a recruiter's verifier concludes from the documents the cache hands it."""
    award: Award = stored(app, award_id)
    credential = cache.get(app.extensions["microcred"].settings.url(f"/credentials/{award_id}"))
    with app.extensions["microcred"].sessions() as session:
        did_url = did_document_url(load_issuer(session, app.extensions["microcred"].settings))
    base = app.extensions["microcred"].settings.base_url
    served = {did_url: cache.get(base + "/.well-known/did.json"),
              **{base + path: cache.get(base + path) for path in status_paths(app, award.id).values()}}
    report = verify_credential(json.loads(credential), offline=True, documents=served, flag_supplied=False)
    status = next(c for c in report.checks if c.check == "status")
    return report.verified, status.reason


def test_a_revocation_reaches_a_verifier_through_a_conforming_cache_by_the_documented_time(live):
    award_id = seed(live.app)
    window = max_age(Freshness.STATUS_LIST)
    assert window == 60                                    # the figure docs/caching.md states
    clock = Clock()
    with requests.Session() as http:
        cache = Cache(over_http(http), clock)
        assert verdict_through(cache, live.app, award_id) == (True, None)
        revoke(live.app, award_id)                         # the worst case: just after the cache filled
        clock.now = window - 0.001
        assert verdict_through(cache, live.app, award_id) == (True, None)       # allowed: still fresh
        clock.now = window
        verified, reason = verdict_through(cache, live.app, award_id)
        assert (verified, reason) == (False, "revoked")
    # the DID document and the credential were only revalidated or served from the cache: the
    # credential itself (max-age 300) was never fetched again, the list was fetched anew once
    status_url = live.base_url + status_path(live.app, award_id)
    assert [s for u, s in cache.origin_requests if u == status_url] == [200, 200]
    assert [s for u, s in cache.origin_requests if u.endswith(f"/credentials/{award_id}")] == [200]


@SQLITE_ONLY
def test_an_unchanged_list_is_revalidated_with_a_304_and_the_page_is_always_current(live):
    award_id = seed(live.app)
    clock = Clock()
    page_url = f"{live.base_url}/credentials/{award_id}"
    status_url = live.base_url + status_path(live.app, award_id)
    with requests.Session() as http:
        cache = Cache(over_http(http), clock)
        listed = cache.get(status_url)
        clock.now = 61
        assert cache.get(status_url) == listed                       # revalidated: 304, body kept
        assert cache.origin_requests[-1] == (status_url, 304)
        # the page and the JSON at one URL: two entries, never one served for the other
        page = cache.get(page_url, HTML)
        credential = cache.get(page_url, {"Accept": "application/vc+ld+json"})
        assert page.startswith(b"<!") and json.loads(credential)["id"].endswith(award_id)
        assert cache.get(page_url, HTML) == page and cache.origin_requests[-1] == (page_url, 304)
        revoke(live.app, award_id)                                    # no-cache: the next view says so
        assert b"Revoked" in cache.get(page_url, HTML) and cache.origin_requests[-1] == (page_url, 200)
