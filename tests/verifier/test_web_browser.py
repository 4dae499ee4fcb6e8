"""The verifier web app in a real browser (Playwright + Debian's Chromium), against a real issuer.

What a recruiter does: paste a link, upload a baked badge, read the verdict. What an attacker
tries: private addresses, redirects to them, a huge upload, an SVG with an external entity,
script in names, a famous name on an unknown key. And an axe accessibility check of the form
and result pages. Screenshots go to ``test-artifacts/``.
"""
from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests import browser_fixtures
from tests.browser_fixtures import artifacts_dir  # noqa: F401  (fixture)
from tests.verifier.issuer_world import IssuerWorld
from tests.verifier.test_web_app import did_key_signed, png_bytes, publish, revoked, tampered
from tests.verifier.test_web_plain_result import assessed
from verifier.baked import bake_png
from verifier.web import create_app


class BrowserThread:
    """Chromium driven by Playwright's sync API from a thread of its own.

    The sync API allows one running instance per thread, and other modules keep theirs (the
    session-scoped ``tests.browser_fixtures.browser``) open in the main thread until the
    session ends; a thread of our own works whatever they do. ``run(body)`` calls
    ``body(page)`` there with a fresh phone-sized page that records script dialogs and
    console errors, and re-raises whatever ``body`` raised.
    """

    def __init__(self) -> None:
        self.jobs: queue.Queue = queue.Queue()
        self.started = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._main, daemon=True, name="playwright")
        self.thread.start()
        self.started.wait(120)
        if self.failure is not None:
            raise self.failure

    def _main(self) -> None:
        try:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=browser_fixtures.CHROMIUM,
                                                      args=browser_fixtures.CHROMIUM_ARGS, headless=True)
                self.started.set()
                while (job := self.jobs.get()) is not None:
                    body, box = job
                    try:
                        box["result"] = self._in_page(chromium, body)
                    except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
                        box["error"] = exc
                    box["done"].set()
                chromium.close()
        except BaseException as exc:  # noqa: BLE001 - reported by __init__
            self.failure = exc
            self.started.set()

    @staticmethod
    def _in_page(chromium, body: Callable[[Any], Any]) -> Any:
        context = chromium.new_context(viewport={"width": 390, "height": 844})
        try:
            page = context.new_page()
            page.dialogs, page.console_errors = [], []
            page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
            page.on("console", lambda message: page.console_errors.append(message.text)
                    if message.type == "error" else None)
            result = body(page)
            assert page.dialogs == [], page.dialogs                 # no script ever ran
            assert not [m for m in page.console_errors if "Content Security Policy" in m], page.console_errors
            return result
        finally:
            context.close()

    def run(self, body: Callable[[Any], Any]) -> Any:
        box: dict[str, Any] = {"done": threading.Event()}
        self.jobs.put((body, box))
        if not box["done"].wait(180):
            raise TimeoutError("the browser did not finish in 180 s")
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(60)


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserThread]:
    try:
        import playwright  # noqa: F401
    except ImportError:
        browser_fixtures._unavailable("playwright is not installed")
    if not Path(browser_fixtures.CHROMIUM).exists():
        browser_fixtures._unavailable("Chromium is not installed at /usr/bin/chromium")
    driver = BrowserThread()
    yield driver
    driver.stop()


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

def test_paste_a_link_from_a_running_issuer(browser, verifier_url, world, artifacts_dir):
    url = publish(world, world.issue())

    def body(page):
        submit(page, verifier_url, url=url)
        assert heading(page) == "Verified"
        assert f"Issued by Example Corp People Team — proven: {world.server.netloc}" in verdict_text(page)
        assert world.did not in verdict_text(page)
        assert "Teamwork" in page.locator("main").inner_text()
        shot(page, artifacts_dir, "verified-link")
        page.click("a.share")                                   # the shareable link verifies afresh
        assert heading(page) == "Verified"
        assert "/verify?url=" in page.url

    browser.run(body)


def test_upload_a_baked_png(browser, verifier_url, world, artifacts_dir):
    baked = bake_png(png_bytes(), json.dumps(world.issue()))

    def body(page):
        submit(page, verifier_url, file=("badge.png", "image/png", baked), recipient="alex.rivera@example.com")
        assert heading(page) == "Verified"
        assert "Issued to the person you named." in page.locator("main").inner_text()
        shot(page, artifacts_dir, "verified-png")

    browser.run(body)


def test_a_tampered_credential_is_not_verified_with_the_reason(browser, verifier_url, world, artifacts_dir):
    data = json.dumps(tampered(world)).encode()

    def body(page):
        submit(page, verifier_url, file=("badge.json", "application/json", data))
        assert heading(page) == "Not verified"
        assert "changed after it was signed" in verdict_text(page)
        assert "signature_mismatch" not in page.locator("main").inner_text()     # folded in the technical details
        page.click("summary")
        assert "signature_mismatch" in page.locator("details").inner_text()
        shot(page, artifacts_dir, "tampered")

    browser.run(body)


def test_a_revoked_credential_says_revoked(browser, verifier_url, world, artifacts_dir):
    text = json.dumps(revoked(world))

    def body(page):
        submit(page, verifier_url, text=text)
        assert heading(page) == "Not verified"
        assert "The issuer has revoked this badge." in verdict_text(page)
        assert "revoked" in page.locator("li[data-check=status]").inner_text()
        shot(page, artifacts_dir, "revoked")

    browser.run(body)


# ---------------------------------------------------------------- what an attacker tries

@pytest.mark.parametrize("target", ["https://10.0.0.1/credential", "https://localhost/credential",
                                    "https://169.254.169.254/latest/meta-data/"])
def test_a_link_to_a_private_address_is_refused(browser, verifier_url, target):
    def body(page):
        submit(page, verifier_url, url=target)
        assert heading(page) == "Not verified"
        assert "is a private or local address, which is never contacted" in verdict_text(page)

    browser.run(body)


def test_a_link_redirecting_to_a_private_address_is_refused(browser, verifier_url, world, artifacts_dir):
    world.server.redirect("/moved", "https://10.20.30.40/credential")

    def body(page):
        submit(page, verifier_url, url=world.server.url("/moved"))
        assert heading(page) == "Not verified"
        assert "10.20.30.40 is a private or local address" in verdict_text(page)
        assert page.locator("li[data-check]").count() == 0                       # not a badge: no cards
        shot(page, artifacts_dir, "redirect-to-private")

    browser.run(body)


def test_a_huge_upload_is_refused(browser, verifier_url, artifacts_dir):
    huge = b"\x89PNG\r\n\x1a\n" + b"\0" * (11 * 1024 * 1024)

    def body(page):
        submit(page, verifier_url, file=("huge.png", "image/png", huge))
        assert heading(page) == "Request Entity Too Large"
        assert "10 MiB" in page.locator("main").inner_text()
        shot(page, artifacts_dir, "huge-upload")

    browser.run(body)


def test_an_svg_with_an_external_entity_is_refused(browser, verifier_url, world):
    world.server.set("/entity", b"pwned", content_type="text/plain")
    svg = (f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "{world.server.url("/entity")}">'
           '<!ENTITY y SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;&y;</text></svg>')

    def body(page):
        submit(page, verifier_url, file=("badge.svg", "image/svg+xml", svg.encode()))
        assert heading(page) == "Not verified"
        text = page.locator("main").inner_text()
        assert "The SVG image contains unsafe content" in text and "pwned" not in text and "root:" not in text

    browser.run(body)
    assert world.server.hits("/entity") == 0


def test_html_and_script_in_names_render_as_text(browser, verifier_url, world, artifacts_dir):
    credential = world.unsigned(name="<img src=x onerror=alert(1)>")
    credential["issuer"]["name"] = "<script>alert('pwned')</script>"
    credential["credentialSubject"]["achievement"]["name"] = "<svg onload=alert(2)>Teamwork"
    text = json.dumps(world.sign(credential))

    def body(page):
        submit(page, verifier_url, text=text)
        assert heading(page) == "Verified"
        assert "<script>alert('pwned')</script>" in page.locator(".issuer-claimed").inner_text()
        assert "<svg onload=alert(2)>Teamwork" in page.locator(".achievement-name").inner_text()
        assert page.locator("main script, main svg, main img[src=x]").count() == 0
        shot(page, artifacts_dir, "script-in-names")

    browser.run(body)                                   # and no alert() dialog opened (BrowserThread)


def test_a_famous_name_on_an_unknown_did_key_is_not_in_the_verdict(browser, verifier_url, world, artifacts_dir):
    credential = world.unsigned()
    credential["issuer"]["name"] = "Harvard University"
    signed = did_key_signed(credential)

    def body(page):
        submit(page, verifier_url, text=json.dumps(signed))
        top = verdict_text(page)
        assert "Verified" in top and "not tied to any website" in top and signed["issuer"]["id"] not in top
        assert "Harvard" not in top
        assert "Harvard University" in page.locator(".issuer-claimed").inner_text()
        assert "anyone can create" in page.locator(".issuer-proven").inner_text()
        page.click("summary")
        assert signed["issuer"]["id"] in page.locator(".issuer-id").inner_text()
        shot(page, artifacts_dir, "famous-name-did-key")

    browser.run(body)


# ---------------------------------------------------------------- accessibility

def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")]


def test_the_form_and_result_pages_are_accessible(browser, verifier_url, world, artifacts_dir):
    link, revoked_text, pasted = publish(world, world.issue()), json.dumps(revoked(world)), json.dumps(world.issue())

    def body(page):
        page.goto(verifier_url + "/")
        assert serious_violations(page) == []
        shot(page, artifacts_dir, "form")
        submit(page, verifier_url, url=link)
        page.click("summary")                                        # the technical details, unfolded
        assert serious_violations(page) == []
        submit(page, verifier_url, text=revoked_text)
        assert serious_violations(page) == []
        submit(page, verifier_url, url="javascript:alert(1)")        # the form with an error
        assert serious_violations(page) == []
        page.set_viewport_size({"width": 1280, "height": 900})
        submit(page, verifier_url, text=pasted)
        assert serious_violations(page) == []
        shot(page, artifacts_dir, "result-desktop")

    browser.run(body)


# ---------------------------------------------------------------- a recruiter reads plain words (issue 14 §2)

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def reads_like_a_badge_page(page, world) -> None:
    """What a recruiter must read on the result: who, what, how it was earned, evidence, validity."""
    assert heading(page) == "Verified"
    top = verdict_text(page)
    assert f"Issued by Example Corp People Team — proven: {world.server.netloc}" in top
    assert "did:" not in top and "%3A" not in top
    text = page.locator("main").inner_text()
    assert "Nominated by at least three peers" in text                              # criteria
    assert "Peer review" in text and "Nominated by four peers." in text              # evidence
    assert "360-degree review" in text and "Exemplary" in text                       # result and its level
    assert "15 January 2026" in text and "1 March 2031" in text                       # validity, plain dates
    assert world.did not in text                                                     # the DID stays folded away
    assert page.locator("a", has_text="Full criteria").get_attribute("href") == "https://hr.example/criteria/teamwork"


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_a_recruiter_verifies_a_link_and_reads_the_plain_result(browser, verifier_url, world, artifacts_dir, width):
    url = publish(world, world.sign(assessed(world)))

    def body(page):
        page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
        submit(page, verifier_url, url=url)
        reads_like_a_badge_page(page, world)
        assert fits_the_width(page)
        assert serious_violations(page) == []
        shot(page, artifacts_dir, f"link-{width}")
        page.click("summary")                                          # the technical details keep the DID
        assert world.did in page.locator("details").inner_text()

    browser.run(body)


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_a_recruiter_uploads_a_badge_image_and_reads_the_plain_result(browser, verifier_url, world, artifacts_dir,
                                                                      width):
    baked = bake_png(png_bytes(), json.dumps(world.sign(assessed(world))))

    def body(page):
        page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
        submit(page, verifier_url, file=("badge.png", "image/png", baked), recipient="alex.rivera@example.com")
        reads_like_a_badge_page(page, world)
        assert "Issued to the person you named." in page.locator("main").inner_text()
        assert fits_the_width(page)
        assert serious_violations(page) == []
        shot(page, artifacts_dir, f"upload-{width}")

    browser.run(body)


NOT_A_BADGE = {
    "text": {"text": "Alex is great at teamwork, trust me."},
    "png": {"file": ("photo.png", "image/png", png_bytes())},
}


@pytest.mark.parametrize("kind", sorted(NOT_A_BADGE))
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_input_that_is_not_a_badge_gets_one_sentence_and_no_cards(browser, verifier_url, artifacts_dir, kind,
                                                                  width):
    def body(page):
        page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
        submit(page, verifier_url, **NOT_A_BADGE[kind])
        assert heading(page) == "Not verified"
        sentences = page.locator("section.verdict p:not(.verdict__mark)")
        assert sentences.count() == 1
        assert sentences.first.inner_text().startswith("This ") and "not a badge" in sentences.first.inner_text()
        assert page.locator("main h2").count() == 0 and page.locator("li[data-check]").count() == 0
        assert fits_the_width(page)
        assert serious_violations(page) == []
        shot(page, artifacts_dir, f"not-a-badge-{kind}-{width}")

    browser.run(body)
