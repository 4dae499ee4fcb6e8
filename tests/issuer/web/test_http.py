"""The shared same-site check (:func:`issuer.web.http.same_site_request`) the console and ``/me`` both use.

A bare Flask app with just the setting the check reads (the base URL); the console's and the
employee space's own tests post real forms through it (tests/issuer/web/admin/test_auth.py,
tests/issuer/web/employee/test_me_pages.py).
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask

from issuer.web.http import same_site_request


@pytest.fixture()
def app() -> Flask:
    app = Flask(__name__)
    app.extensions["microcred"] = SimpleNamespace(settings=SimpleNamespace(base_url="https://hr.example.com"))
    return app


@pytest.mark.parametrize(("headers", "same_site"), [
    ({}, True),                                                        # no header: left to the CSRF token
    ({"Sec-Fetch-Site": "same-origin"}, True),
    ({"Sec-Fetch-Site": "none"}, True),                                # typed into the address bar
    ({"Sec-Fetch-Site": "same-site"}, False),                          # a sibling sub-domain
    ({"Sec-Fetch-Site": "cross-site"}, False),
    ({"Origin": "https://hr.example.com"}, True),                      # the base URL
    ({"Origin": "http://internal:5000"}, True),                        # the host the request went to
    ({"Origin": "https://evil.example"}, False),
    ({"Origin": "http://hr.example.com"}, False),                      # same host, other scheme
    ({"Origin": "https://hr.example.com:8443"}, False),
    ({"Origin": "null"}, False),
    ({"Origin": "https://hr.example.com", "Sec-Fetch-Site": "cross-site"}, False),
])
def test_same_site_request(app, headers, same_site):
    with app.test_request_context("/admin/x", method="POST", base_url="http://internal:5000", headers=headers):
        assert same_site_request() is same_site
