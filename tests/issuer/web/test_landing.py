"""``/``: the home page says whose installation this is and where each visitor goes."""
from __future__ import annotations

import pytest

from issuer.config import load_settings
from issuer.web import create_app
from tests.admin_support import console_app, page_text

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_the_home_page_names_the_issuer_and_links_every_visitor_onwards(db_url, tmp_path):
    app = console_app(tmp_path, db_url, demo=True)
    response = app.test_client().get("/", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    text = page_text(response)
    assert "<h1>Example Corp People Team</h1>" in html
    for href in ('href="/verify"', 'href="/me/"', 'href="/admin/"', 'href="https://hr.example.com/issuer"',
                 'href="https://hr.example.com/.well-known/did.json"'):
        assert href in html, href
    assert "Check a badge" in text and "My badges" in text and "Staff sign-in" in text
    summary = text.split("Technical details")[0]
    assert "did:web" not in summary and "credential" not in summary.lower()     # plain words before the details


def test_the_issuers_own_texts_are_escaped(db_url, tmp_path):
    app = console_app(tmp_path, db_url, issuer_name="<script>alert(1)</script> & Co")
    html = app.test_client().get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


def test_before_setup_the_home_page_says_so(db_url, tmp_path):
    settings = load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys", database_url=db_url,
                             base_url="https://hr.example.com")
    response = create_app(settings).test_client().get("/")
    assert response.status_code == 200
    text = page_text(response)
    assert "not set up yet" in text and "microcred init" in text and "Staff sign-in" not in text


def test_served_at_another_address_the_home_page_points_to_the_issuer_not_to_init(db_url, tmp_path):
    console_app(tmp_path, db_url).extensions["microcred"].engine.dispose()      # the issuer of https://hr.example.com
    settings = load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys", database_url=db_url,
                             base_url="http://localhost:8080")
    response = create_app(settings).test_client().get("/")
    text = page_text(response)
    assert response.status_code == 200 and "microcred init" not in text
    assert "Its issuer is at https://hr.example.com" in text and 'href="https://hr.example.com"' in \
        response.get_data(as_text=True)
