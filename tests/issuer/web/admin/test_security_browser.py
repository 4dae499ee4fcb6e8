"""The console's CSRF and role rules in a real browser (Playwright + Debian's Chromium).

The issuer app is served on http://127.0.0.1:<port>; a second loopback server plays the
attacker's site on http://localhost:<other port> (another site to the browser). Screenshots
go to ``test-artifacts/``.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from issuer.db.models import IssuerKey
from tests.admin_support import add_staff, browser_login, console_app, live_console
from tests.browser_fixtures import artifacts_dir, browser  # noqa: F401  (fixtures; one browser per module)

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture()
def site(db_url, tmp_path):
    def factory(base_url):
        app = console_app(tmp_path, db_url, base_url)
        add_staff(app, "ada", "admin", name="Ada Admin")
        add_staff(app, "ike", "issuer", name="Ike Issuer")
        return app

    with live_console(factory) as (app, base_url):
        yield app, base_url


@pytest.fixture()
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def keys_count(app) -> int:
    with app.extensions["microcred"].sessions() as session:
        return session.scalar(select(func.count()).select_from(IssuerKey))


@contextmanager
def attacker_site(target: str):
    """http://localhost:<port>/ : a page that posts a key rotation to ``target`` as soon as it loads."""
    page = f"""<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="{target}">
<input type="hidden" name="confirm" value="yes"><input type="hidden" name="csrf_token" value="guessed">
</form><script>document.getElementById('f').submit()</script>"""

    @Request.application
    def app(request):
        return Response(page, mimetype="text/html")

    server = make_server("localhost", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_cross_site_form_post_is_refused(site, context, artifacts_dir):
    app, base_url = site
    page = context.new_page()
    browser_login(page, base_url, "ada")                        # the victim is signed in
    with attacker_site(f"{base_url}/admin/keys/rotate") as evil:
        with page.expect_response(f"{base_url}/admin/keys/rotate") as answer:
            page.goto(evil)
        assert answer.value.status == 403
        page.wait_for_load_state()
        page.screenshot(path=str(artifacts_dir / "admin-cross-site-refused.png"))
    assert keys_count(app) == 1
    page.goto(f"{base_url}/admin/keys")                           # still signed in, nothing rotated
    assert page.locator("tbody tr").count() == 1


def test_an_issuer_cannot_rotate_keys_even_by_hand(site, context, artifacts_dir):
    app, base_url = site
    page = context.new_page()
    browser_login(page, base_url, "ike")
    nav = page.get_by_role("navigation", name="Console")
    assert nav.get_by_role("link", name="Keys").count() == 0
    assert nav.get_by_role("link", name="Users").count() == 0
    response = page.goto(f"{base_url}/admin/keys")
    assert response.status == 403
    page.screenshot(path=str(artifacts_dir / "admin-issuer-keys-forbidden.png"))
    page.go_back()
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")   # a valid token of this session
    status = page.evaluate("""async ([url, token]) => {
        const body = new URLSearchParams({confirm: 'yes', csrf_token: token});
        const response = await fetch(url, {method: 'POST', body, redirect: 'manual'});
        return response.status;
    }""", [f"{base_url}/admin/keys/rotate", token])
    assert status == 403
    assert keys_count(app) == 1


def test_an_admin_rotates_the_key_through_the_page(site, context, artifacts_dir):
    app, base_url = site
    page = context.new_page()
    browser_login(page, base_url, "ada")
    page.goto(f"{base_url}/admin/keys")
    page.get_by_label("Yes, make a new key current").check()
    page.get_by_role("button", name="Rotate the signing key").click()
    page.get_by_text("#key-2 is current").wait_for()
    page.screenshot(path=str(artifacts_dir / "admin-keys-rotated.png"), full_page=True)
    assert keys_count(app) == 2
