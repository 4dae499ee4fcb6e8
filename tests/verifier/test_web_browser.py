"""The verifier web app in a real browser (Playwright + Debian's Chromium), against a real issuer.

What a recruiter does: paste a link, upload a baked badge, read the verdict. What an attacker
tries: private addresses, redirects to them, a huge upload, an SVG with an external entity,
script in names, a famous name on an unknown key. And an axe accessibility check of the form
and result pages. Screenshots go to ``test-artifacts/``.
"""
from __future__ import annotations

import json
import threading
from typing import Iterator

import pytest
from werkzeug.serving import make_server

from tests.browser_fixtures import artifacts_dir, browser, page  # noqa: F401  (fixtures)
from tests.verifier.issuer_world import IssuerWorld
from tests.verifier.test_web_app import SVG, did_key_signed, png_bytes, publish, revoked, tampered
from verifier.baked import bake_png
from verifier.web import create_app


@pytest.fixture()
def world(https_server):
    world = IssuerWorld(https_server)
    yield world
    world.close()


@pytest.fixture()
def verifier_url(world) -> Iterator[str]:
    """The verifier app on a threaded loopback server, allowed to reach the loopback issuer."""
    app = create_app({"ALLOW_HOSTS": {"127.0.0.1"}, "CA_FILE": world.server.ca_file})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def watched(page):
    """The page, recording script dialogs (none may ever open) and CSP complaints (none may occur)."""
    page.dialogs = []
    page.console_errors = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: page.console_errors.append(message.text) if message.type == "error" else None)
    yield page
    assert page.dialogs == []
    assert not [m for m in page.console_errors if "Content Security Policy" in m], page.console_errors


def submit(page, base: str, *, url: str | None = None, text: str | None = None,
           file: tuple[str, str, bytes] | None = None, recipient: str | None = None) -> None:
    page.goto(base + "/")
    if url is not None:
        page.fill("#url", url)
    if text is not None:
        page.fill("#credential", text)
    if file is not None:
        name, mime, data = file
        page.set_input_files("#file", files=[{"name": name, "mimeType": mime, "buffer": data}])
    if recipient is not None:
        page.fill("#recipient", recipient)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def heading(page) -> str:
    return page.locator("h1").first.inner_text()


def verdict_text(page) -> str:
    return page.locator("section.verdict").inner_text()


def shot(page, artifacts_dir, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"verifier-{name}.png"), full_page=True)


# ---------------------------------------------------------------- what a recruiter does

def test_paste_a_link_from_a_running_issuer(watched, verifier_url, world, artifacts_dir):
    url = publish(world, world.issue())
    submit(watched, verifier_url, url=url)
    assert heading(watched) == "Verified"
    assert world.did in verdict_text(watched)
    assert "Teamwork" in watched.locator("main").inner_text()
    shot(watched, artifacts_dir, "verified-link")
    watched.click("a.share")                                # the shareable link verifies afresh
    assert heading(watched) == "Verified"
    assert "/verify?url=" in watched.url


def test_upload_a_baked_png(watched, verifier_url, world, artifacts_dir):
    baked = bake_png(png_bytes(), json.dumps(world.issue()))
    submit(watched, verifier_url, file=("badge.png", "image/png", baked), recipient="alex.rivera@example.com")
    assert heading(watched) == "Verified"
    assert "Issued to the person you named." in watched.locator("main").inner_text()
    shot(watched, artifacts_dir, "verified-png")


def test_a_tampered_credential_is_not_verified_with_the_reason(watched, verifier_url, world, artifacts_dir):
    submit(watched, verifier_url, file=("badge.json", "application/json", json.dumps(tampered(world)).encode()))
    assert heading(watched) == "Not verified"
    assert "signature_mismatch" in verdict_text(watched)
    assert "changed after it was signed" in verdict_text(watched)
    shot(watched, artifacts_dir, "tampered")


def test_a_revoked_credential_says_revoked(watched, verifier_url, world, artifacts_dir):
    submit(watched, verifier_url, text=json.dumps(revoked(world)))
    assert heading(watched) == "Not verified"
    assert "The issuer has revoked this credential." in verdict_text(watched)
    assert "revoked" in watched.locator("li[data-check=status]").inner_text()
    shot(watched, artifacts_dir, "revoked")


# ---------------------------------------------------------------- what an attacker tries

@pytest.mark.parametrize("target", ["https://10.0.0.1/credential", "https://localhost/credential",
                                    "https://169.254.169.254/latest/meta-data/"])
def test_a_link_to_a_private_address_is_refused(watched, verifier_url, target):
    submit(watched, verifier_url, url=target)
    assert heading(watched) == "Not verified"
    assert "unreachable" in verdict_text(watched)


def test_a_link_redirecting_to_a_private_address_is_refused(watched, verifier_url, world, artifacts_dir):
    world.server.redirect("/moved", "https://10.20.30.40/credential")
    submit(watched, verifier_url, url=world.server.url("/moved"))
    assert heading(watched) == "Not verified"
    assert "10.20.30.40" in watched.locator("li[data-check=parse]").inner_text()
    shot(watched, artifacts_dir, "redirect-to-private")


def test_a_huge_upload_is_refused(watched, verifier_url, artifacts_dir):
    huge = b"\x89PNG\r\n\x1a\n" + b"\0" * (11 * 1024 * 1024)
    submit(watched, verifier_url, file=("huge.png", "image/png", huge))
    assert heading(watched) == "Request Entity Too Large"
    assert "10 MiB" in watched.locator("main").inner_text()
    shot(watched, artifacts_dir, "huge-upload")


def test_an_svg_with_an_external_entity_is_refused(watched, verifier_url, world):
    world.server.set("/entity", b"pwned", content_type="text/plain")
    svg = (f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "{world.server.url("/entity")}">'
           '<!ENTITY y SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;&y;</text></svg>')
    submit(watched, verifier_url, file=("badge.svg", "image/svg+xml", svg.encode()))
    assert heading(watched) == "Not verified"
    text = watched.locator("main").inner_text()
    assert "unsafe_svg" in text and "pwned" not in text and "root:" not in text
    assert world.server.hits("/entity") == 0


def test_html_and_script_in_names_render_as_text(watched, verifier_url, world, artifacts_dir):
    credential = world.unsigned(name="<img src=x onerror=alert(1)>")
    credential["issuer"]["name"] = "<script>alert('pwned')</script>"
    credential["credentialSubject"]["achievement"]["name"] = "<svg onload=alert(2)>Teamwork"
    submit(watched, verifier_url, text=json.dumps(world.sign(credential)))
    assert heading(watched) == "Verified"
    assert "<script>alert('pwned')</script>" in watched.locator(".issuer-claimed").inner_text()
    assert "<svg onload=alert(2)>Teamwork" in watched.locator(".achievement-name").inner_text()
    assert watched.locator("main script, main svg, main img[src=x]").count() == 0
    shot(watched, artifacts_dir, "script-in-names")


def test_a_famous_name_on_an_unknown_did_key_shows_the_did(watched, verifier_url, world, artifacts_dir):
    credential = world.unsigned()
    credential["issuer"]["name"] = "Harvard University"
    signed = did_key_signed(credential)
    submit(watched, verifier_url, text=json.dumps(signed))
    top = verdict_text(watched)
    assert "Verified" in top and signed["issuer"]["id"] in top
    assert "Harvard" not in top
    assert "Harvard University" in watched.locator(".issuer-claimed").inner_text()
    assert signed["issuer"]["id"] in watched.locator(".issuer-proven").inner_text()
    shot(watched, artifacts_dir, "famous-name-did-key")


# ---------------------------------------------------------------- accessibility

def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")]


def test_the_form_and_result_pages_are_accessible(watched, verifier_url, world, artifacts_dir):
    watched.goto(verifier_url + "/")
    assert serious_violations(watched) == []
    shot(watched, artifacts_dir, "form")
    submit(watched, verifier_url, url=publish(world, world.issue()))
    watched.click("summary")                                          # the technical details, unfolded
    assert serious_violations(watched) == []
    submit(watched, verifier_url, text=json.dumps(revoked(world)))
    assert serious_violations(watched) == []
    submit(watched, verifier_url, url="javascript:alert(1)")          # the form with an error
    assert serious_violations(watched) == []
    watched.set_viewport_size({"width": 1280, "height": 900})
    submit(watched, verifier_url, text=json.dumps(world.issue()))
    assert serious_violations(watched) == []
    shot(watched, artifacts_dir, "result-desktop")
