"""The OIDC routes and button when no provider is configured, when the configuration is wrong,
and when the configured provider cannot be reached (no provider process needed)."""
from __future__ import annotations

import pytest

from issuer.errors import ConfigError
from tests.admin_support import console_app, page_text
from tests.http_fixtures import unused_port

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_without_a_provider_there_is_no_button_and_no_route(tmp_path, db_url, monkeypatch):
    monkeypatch.delenv("MICROCRED_OIDC_ISSUER", raising=False)
    app = console_app(tmp_path, db_url)
    client = app.test_client()
    page = client.get("/admin/login")
    assert page.status_code == 200 and "Sign in with" not in page.get_data(as_text=True)
    assert "/oidc/" not in page.get_data(as_text=True)
    for path in ("/oidc/start?for=staff", "/oidc/start?for=employee", "/oidc/callback?code=x&state=y"):
        assert client.get(path).status_code == 404, path


def test_a_wrong_setting_stops_the_app_with_its_name(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("MICROCRED_OIDC_ISSUER", "http://login.example.com")
    monkeypatch.setenv("MICROCRED_OIDC_CLIENT_ID", "microcred")
    with pytest.raises(ConfigError, match="MICROCRED_OIDC_ISSUER must be an https URL"):
        console_app(tmp_path, db_url)


@pytest.fixture
def unreachable(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("MICROCRED_OIDC_ISSUER", f"http://127.0.0.1:{unused_port()}")
    monkeypatch.setenv("MICROCRED_OIDC_CLIENT_ID", "microcred")
    monkeypatch.setenv("MICROCRED_OIDC_ALLOW_LOOPBACK_HTTP", "1")
    return console_app(tmp_path, db_url)


def test_the_button_shows_once_configured_with_the_default_name(unreachable):
    page = unreachable.test_client().get("/admin/login?next=/admin/keys").get_data(as_text=True)
    assert '<a class="button secondary" href="/oidc/start?for=staff&amp;next=/admin/keys">' \
           'Sign in with your company account</a>' in page


def test_an_unreachable_provider_sends_staff_back_with_the_reason(unreachable):
    client = unreachable.test_client()
    response = client.get("/oidc/start?for=staff&next=/admin/keys")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/login?next=/admin/keys"
    text = page_text(client.get(response.headers["Location"]))
    assert "The identity provider cannot be reached" in text
    assert client.get("/admin/keys").status_code == 302          # nobody signed in


def test_an_unreachable_provider_answers_503_to_the_employee_space(unreachable):
    unreachable.extensions["microcred_employee_sign_in"] = lambda email: pytest.fail("no address was proven")
    response = unreachable.test_client().get("/oidc/start?for=employee", headers={"Accept": "text/html"})
    assert response.status_code == 503
    assert "The identity provider cannot be reached" in page_text(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_callback_without_a_started_sign_in_is_refused(unreachable):
    response = unreachable.test_client().get("/oidc/callback?code=abc&state=def", headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert "already used, or was started in another browser" in page_text(response)
    problem = unreachable.test_client().get("/oidc/callback?code=abc&state=def").get_json()
    assert problem["code"] == "oidc_no_pending" and problem["status"] == 403
