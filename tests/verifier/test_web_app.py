"""The verifier web app through Flask's test client, against a real issuer on loopback HTTPS.

Pages and API for every input form, the verdicts a recruiter must see (verified, tampered,
revoked), the attacks the page must survive (private addresses, redirects to them, oversize
bodies, SVG entities, HTML in names, borrowed famous names), request validation (400 / 413 /
415 problem documents, never a 500 or a traceback), caching, rate limits, mounting in another
app, the OpenAPI document, and ``microcred verifier serve`` on gunicorn.
"""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.resources import files
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from jsonschema import Draft202012Validator
from PIL import Image
from werkzeug.serving import make_server

from tests.http_fixtures import LoopbackServer, unused_port
from tests.verifier.issuer_world import IssuerWorld
from tests.verifier.signing_support import TestSigner, sign_data_integrity
from verifier.baked import bake_png, bake_svg
from verifier.fetcher import NetworkFetcher
from verifier.web import app as web_app
from verifier.web import create_app, verifier_blueprint
from verifier.web import display as web_display
from verifier.web import state as web_state
from verifier.web.cli import verifier as verifier_group

ALEX = "alex.rivera@example.com"  # the sample credential's (hashed) recipient


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


@pytest.fixture()
def world(https_server):
    world = IssuerWorld(https_server)
    yield world
    world.close()


def make_app(world, **config) -> Flask:
    return create_app({"ALLOW_HOSTS": {world.server.host}, "CA_FILE": world.server.ca_file, "TESTING": True,
                       **config})


@pytest.fixture()
def client(world):
    return make_app(world).test_client()


def publish(world, credential, path="/credentials/1") -> str:
    world.server.set_json(path, credential, content_type="application/vc+ld+json")
    return world.server.url(path)


def tampered(world) -> dict:
    signed = world.issue()
    signed["credentialSubject"]["achievement"]["name"] = "Leadership"
    return signed


def revoked(world) -> dict:
    url = world.publish_status_list("/status/1", revoked=[3])
    return world.sign(world.with_status(world.unsigned(), url, 3))


def did_key_signed(credential: dict) -> dict:
    key = TestSigner()
    did = key.public.to_did_key()
    credential["issuer"]["id"] = did
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")   # signed now, as the issuer does
    return sign_data_integrity(credential, key, created=created, verificationMethod=f"{did}#{did[8:]}")


def html(response) -> str:
    return response.get_data(as_text=True)


def share_link(page: str) -> tuple[str, str]:
    href = re.search(r'class="share" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    parts = urlsplit(href)
    return parts.path, parse_qs(parts.query)["url"][0]


def verdict(response) -> str:
    text = html(response)
    return text[text.index('<section class="verdict'):text.index("</section>")]


# ---------------------------------------------------------------- pages

def test_the_form_page_and_its_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    for part in ("default-src 'self'", "img-src 'self' data: https:", "frame-ancestors 'none'"):
        assert part in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = html(response)
    assert 'enctype="multipart/form-data"' in page and 'name="url"' in page and 'name="file"' in page
    assert "<script" not in page and "style=" not in page and "<style" not in page
    css = client.get("/static/verifier.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert css.headers["X-Content-Type-Options"] == "nosniff"


def test_a_link_verifies_and_the_page_shows_the_proven_issuer(client, world):
    url = publish(world, world.issue())
    response = client.get("/verify", query_string={"url": url})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    top = verdict(response)
    assert 'data-outcome="verified"' in top and ">Verified<" in top
    assert re.search(r"Issued by\s*<strong class=\"issuer-name\"><bdi>Example Corp People Team</bdi></strong>\s*"
                     rf"— proven: <strong class=\"issuer-website\"><bdi>{re.escape(world.server.netloc)}</bdi>", top)
    page = html(response)
    shown, technical = page[:page.index("<details")], page[page.index("<details"):]
    assert "did:" not in shown and "%3A" not in shown                # the DID only in the technical details
    assert "Example Corp People Team" in page[page.index('class="issuer-claimed"'):]
    assert "Teamwork" in shown and "Collaboration" in shown and "O*NET" in shown
    assert 'href="https://www.onetonline.org/find/descriptor/result/2.B.1.a"' in page
    assert "15 January 2026" in shown and "No end date given" in shown
    assert "Nominated by at least three peers" in shown                 # the criteria
    assert '<code class="reason-code">no_status</code>' in technical and "no_status" not in shown
    assert world.did in technical and world.vm in technical           # the DID and resolved key, folded away
    assert share_link(page) == ("/verify", url)


@pytest.mark.parametrize("form", ["json", "jwt", "png", "svg", "pasted_link"])
def test_every_form_input_verifies(client, world, form):
    signed = world.sign(world.unsigned(), cryptosuite="jwt" if form == "jwt" else "eddsa-rdfc-2022")
    text = signed if isinstance(signed, str) else json.dumps(signed)
    data = {"recipient": ALEX}
    if form in ("json", "jwt"):
        data["credential"] = text
    elif form == "pasted_link":
        data["credential"] = publish(world, signed)
    else:
        baked = bake_png(png_bytes(), text) if form == "png" else bake_svg(SVG, text)
        data["file"] = (io.BytesIO(baked), f"badge.{form}")
    response = client.post("/verify", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert 'data-outcome="verified"' in verdict(response), html(response)
    assert "Issued to the person you named." in html(response)
    if form != "pasted_link":
        assert "Link to this check" not in html(response)   # nothing to share: nothing is stored


def test_tampered_revoked_and_wrong_recipient_say_why(client, world):
    response = client.post("/verify", data={"credential": json.dumps(tampered(world))})
    assert 'data-outcome="not_verified"' in verdict(response) and "Not verified" in verdict(response)
    assert "not proven" in html(response)[html(response).index('class="issuer-proven"'):]   # the signature failed
    assert "changed after it was signed" in verdict(response) and "signature_mismatch" not in verdict(response)
    assert "signature_mismatch" in html(response)[html(response).index("<details"):]
    response = client.post("/verify", data={"credential": json.dumps(revoked(world))})
    assert "The issuer has revoked this badge." in verdict(response)
    proven = html(response)[html(response).index('class="issuer-proven"'):]
    assert "proven by the signature" in proven[:proven.index("</dd>")]        # genuine, but revoked
    response = client.post("/verify", data={"credential": json.dumps(world.issue()), "recipient": "eve@example.com"})
    assert "was not issued to the person you named" in verdict(response)


def test_an_unreachable_key_is_could_not_be_fully_checked(world):
    client = make_app(world, FETCH_TIMEOUT=2.0).test_client()
    world.server.remove("/.well-known/did.json")
    response = client.post("/verify", data={"credential": json.dumps(world.issue())})
    assert 'data-outcome="indeterminate"' in verdict(response)
    assert "Could not be fully checked" in verdict(response)
    assert "public key could not be fetched right now" in verdict(response)
    assert "answered with an error (HTTP 404)" in verdict(response)                # the real reason, in plain words
    assert "key_unresolvable" in html(response)[html(response).index("<details"):]


def test_the_result_page_offers_a_recipient_check_for_links(client, world):
    url = publish(world, world.issue())
    page = html(client.get("/verify", query_string={"url": url}))
    assert f'<input type="hidden" name="url" value="{url}">' in page
    response = client.post("/verify", data={"url": url, "recipient": ALEX})
    assert "Issued to the person you named." in html(response)


# ---------------------------------------------------------------- the JSON API

def openapi_validator(document: dict, name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": document["components"]})


def test_the_api_answers_the_report_for_every_input(client, world):
    signed = world.issue()
    report_schema = openapi_validator(client.get("/openapi.json").get_json(), "Report")
    token = world.sign(world.unsigned(), cryptosuite="jwt")
    requests = [
        {"json": {"url": publish(world, signed), "recipient": ALEX}},
        {"json": {"credential": signed, "recipient": ALEX}},
        {"json": {"credential": token, "recipient": ALEX}},
        {"data": {"file": (io.BytesIO(bake_png(png_bytes(), json.dumps(signed))), "b.png"), "recipient": ALEX},
         "content_type": "multipart/form-data"},
        {"data": {"credential": json.dumps(signed), "recipient": ALEX}},   # urlencoded
    ]
    for kwargs in requests:
        response = client.post("/api/verify", **kwargs)
        assert response.status_code == 200 and response.mimetype == "application/json"
        body = response.get_json()
        assert body["verified"] is True and body["outcome"] == "verified", body
        assert body["summary"]["issuer"]["proven"].startswith(world.did)
        assert body["summary"]["issuer"]["proven_website"] == world.server.netloc
        assert body["headline"] == f"Verified: issued by Example Corp People Team — proven: {world.server.netloc}."
        assert {c["check"]: c["status"] for c in body["checks"]}["recipient"] == "passed"
        report_schema.validate(body)
    failing = client.post("/api/verify", json={"credential": tampered(world)}).get_json()
    assert failing["outcome"] == "not_verified"
    assert {c["check"]: c["reason"] for c in failing["checks"]}["proof"] == "signature_mismatch"
    report_schema.validate(failing)


BAD_REQUESTS = {
    "not json": (b"{", "application/json", 400),
    "an array": (b"[]", "application/json", 400),
    "nothing": (b"{}", "application/json", 400),
    "both": (b'{"url": "https://a.example/c", "credential": {}}', "application/json", 400),
    "unknown member": (b'{"credential": {}, "extra": 1}', "application/json", 400),
    "not a link": (b'{"url": "file:///etc/passwd"}', "application/json", 400),
    "javascript link": (b'{"url": "javascript:alert(1)"}', "application/json", 400),
    "credential a number": (b'{"credential": 5}', "application/json", 400),
    "recipient a list": (b'{"credential": {}, "recipient": ["a"]}', "application/json", 400),
    "NaN": (b'{"credential": {"a": NaN}}', "application/json", 400),
    "duplicate keys": (b'{"credential": {}, "credential": {}}', "application/json", 400),
    "deep nesting": (b'{"credential": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json", 400),
    "not UTF-8": (b'{"credential": "\xff"}', "application/json", 400),
    "over 2 MiB of JSON": (b'{"credential": "' + b"a" * (2 * 1024 * 1024) + b'"}', "application/json", 413),
    "text/plain": (b"{}", "text/plain", 415),
    "no content type": (b"{}", None, 415),
    "xml": (b"<a/>", "application/xml", 415),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_api_requests_get_problem_documents(client, name):
    body, content_type, status = BAD_REQUESTS[name]
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/verify", data=body, headers=headers)
    assert response.status_code == status, html(response)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert "Traceback" not in html(response)


def test_oversize_bodies_and_uploads_are_413(client):
    big = io.BytesIO(b"\x89PNG" + b"\0" * (10 * 1024 * 1024 + 10))
    response = client.post("/api/verify", data={"file": (big, "big.png")}, content_type="multipart/form-data")
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    big = io.BytesIO(b"\x89PNG" + b"\0" * (10 * 1024 * 1024 + 10))
    page = client.post("/verify", data={"file": (big, "big.png")}, content_type="multipart/form-data")
    assert page.status_code == 413 and page.mimetype == "text/html"
    assert "too large" in html(page) and "10 MiB" in html(page)
    pasted = client.post("/verify", data={"credential": "a" * (2 * 1024 * 1024 + 1)})
    assert pasted.status_code == 413


def test_the_api_only_takes_post_and_unknown_paths_are_404(client):
    response = client.get("/api/verify")
    assert response.status_code == 405 and response.mimetype == "application/problem+json"
    assert "POST" in response.headers["Allow"]
    assert client.get("/api/nothing").mimetype == "application/problem+json"
    missing = client.get("/nothing")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert missing.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_form_errors_show_the_form_again(client):
    for query in ({"url": ""}, {"url": "javascript:alert(1)"}, {"url": "https://a.example/x y"}):
        response = client.get("/verify", query_string=query)
        assert response.status_code == 400 and 'role="alert"' in html(response) and 'name="url"' in html(response)
    response = client.post("/verify", data={"url": "https://a.example/c", "credential": "{}"})
    assert response.status_code == 400 and "only one badge" in html(response)
    assert client.post("/verify", data={}).status_code == 400


def test_unexpected_errors_never_leak_a_traceback(client, world, monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals /etc/microcred")

    monkeypatch.setattr(web_app, "verify_credential", boom)
    for response in (client.post("/api/verify", json={"credential": {}}), client.post("/verify", data={"credential": "{}"})):
        assert response.status_code == 500
        assert "secret internals" not in html(response) and "Traceback" not in html(response)
    assert "secret internals" in caplog.text


def test_odd_unicode_never_breaks_the_page(client):
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                  "name": "\ud800 lone surrogate", "issuer": {"id": "did:example:\u202e", "name": "a\x00b"}}
    text = json.dumps(credential)          # \ud800 escaped: json.loads gives a lone surrogate back
    for response in (client.post("/verify", data={"credential": text}), client.post("/api/verify", data=text,
                                                                                    content_type="application/json")):
        assert response.status_code in (200, 400), html(response)


# ---------------------------------------------------------------- attacks

@pytest.mark.parametrize("url", ["https://10.0.0.1/credential", "https://localhost/credential",
                                 "https://[::1]/credential", "https://2130706433/credential",
                                 "https://169.254.169.254/latest/meta-data/"])
def test_links_to_private_addresses_are_never_fetched(url):
    client = create_app({"TESTING": True}).test_client()
    response = client.get("/verify", query_string={"url": url})
    assert 'data-outcome="not_verified"' in verdict(response)
    assert "could not be fetched from its address" in verdict(response)
    assert "private or local address, which is never contacted" in verdict(response)
    assert 'class="checks"' not in html(response) and "The badge</h2>" not in html(response)   # no empty cards
    assert "could not retrieve" in html(response)[html(response).index("<details"):]
    api = client.post("/api/verify", json={"url": url}).get_json()
    assert api["checks"][0]["details"]["fetch_error"] == "private_address"


def test_a_redirect_to_a_private_address_is_refused(world):
    client = make_app(world).test_client()
    world.server.redirect("/go", "https://10.1.2.3/credential")
    world.server.redirect("/go-local", "https://localhost/credential")
    for path in ("/go", "/go-local"):
        body = client.post("/api/verify", json={"url": world.server.url(path)}).get_json()
        assert body["outcome"] == "not_verified"
        assert body["checks"][0]["details"]["fetch_error"] == "private_address"


def test_loopback_is_refused_unless_allowed(world):
    client = create_app({"TESTING": True, "CA_FILE": world.server.ca_file}).test_client()
    body = client.post("/api/verify", json={"url": publish(world, world.issue())}).get_json()
    assert body["outcome"] == "not_verified" and body["checks"][0]["details"]["fetch_error"] == "port_not_allowed"
    assert world.server.hits("/credentials/1") == 0


def test_an_svg_with_an_external_entity_is_refused_without_reading_it(client, world):
    world.server.set("/evil.dtd", b'<!ENTITY x "pwned">', content_type="application/xml-dtd")
    for target in ("file:///etc/passwd", world.server.url("/evil.dtd")):
        svg = (f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "{target}">]>'
               '<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>').encode()
        response = client.post("/verify", data={"file": (io.BytesIO(svg), "badge.svg")},
                               content_type="multipart/form-data")
        assert 'data-outcome="not_verified"' in verdict(response)
        assert "unsafe_svg" in html(response)
        assert "root:" not in html(response) and "pwned" not in html(response)
    assert world.server.hits("/evil.dtd") == 0


def test_html_in_names_is_shown_as_text(client, world):
    credential = world.unsigned(name='<img src=x onerror="alert(1)">')
    credential["issuer"]["name"] = "<script>alert('issuer')</script>"
    credential["credentialSubject"]["achievement"]["name"] = "<b>Bold</b>\u202eevil"
    credential["credentialSubject"]["achievement"]["alignment"][0]["targetUrl"] = "javascript:alert(1)"
    response = client.post("/verify", data={"credential": json.dumps(world.sign(credential))})
    page = html(response)
    assert 'data-outcome="verified"' in verdict(response)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>Bold" not in page
    assert "&lt;script&gt;alert(&#39;issuer&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;Bold&lt;/b&gt;[U+202E]evil" in page                 # bidi override made visible
    assert "\u202e" not in page[:page.index("<details")]
    assert "javascript:" not in page[:page.index("<details")]


def test_a_famous_name_signed_by_an_unknown_did_key_is_not_named_in_the_verdict(client, world):
    credential = world.unsigned()
    credential["issuer"]["name"] = "Harvard University ✓ Verified"
    signed = did_key_signed(credential)
    response = client.post("/verify", data={"credential": json.dumps(signed)})
    top = verdict(response)
    assert 'data-outcome="verified"' in top and signed["issuer"]["id"] not in top
    assert "Harvard" not in top and "not tied to any website" in top and "anyone can create" in top
    page = html(response)
    claimed = page[page.index('class="issuer-claimed"'):]
    assert "Harvard University ✓ Verified" in claimed[:claimed.index("</dd>")]
    assert signed["issuer"]["id"] in page[page.index("<details"):]          # the did:key, technical details only


def test_a_borrowed_issuer_id_is_not_proven(client, world):
    attacker = TestSigner()
    did = attacker.public.to_did_key()
    signed = world.sign(world.unsigned(), key=attacker, vm=f"{did}#{did[8:]}")   # claims the world's did:web
    response = client.post("/verify", data={"credential": json.dumps(signed)})
    assert "someone else signed this badge" in verdict(response)
    page = html(response)
    assert "key_not_controlled_by_issuer" in page[page.index("<details"):]
    assert "not proven" in page[page.index('class="issuer-proven"'):]


IMAGES = {
    "https": ("https://cdn.example/badge.png", True),
    "png data": ("data:image/png;base64," + __import__("base64").b64encode(png_bytes()).decode(), True),
    "svg data via img": ("data:image/svg+xml;base64," + __import__("base64").b64encode(SVG).decode(), True),
    "png claimed, html inside": ("data:image/png;base64," + __import__("base64").b64encode(b"<html>").decode(), False),
    "text/html": ("data:text/html;base64,PHNjcmlwdD4=", False),
    "svg not base64": ("data:image/svg+xml,<svg onload=alert(1)>", False),
    "javascript": ("javascript:alert(1)", False),
    "plain http": ("http://cdn.example/badge.png", False),
    "quote breaking out": ('https://cdn.example/x" onerror="alert(1)', False),
    "userinfo": ("https://user@cdn.example/x.png", False),
}


@pytest.mark.parametrize("name", list(IMAGES))
def test_only_safe_images_are_shown(name):
    value, shown = IMAGES[name]
    document = {"credentialSubject": {"achievement": {"image": {"id": value, "type": "Image"}}}}
    assert (web_display.badge_image(document) == value) is shown


def test_the_badge_image_is_an_img_never_inline_svg(client, world):
    credential = world.unsigned()
    credential["credentialSubject"]["achievement"]["image"] = {
        "id": "data:image/svg+xml;base64," + __import__("base64").b64encode(SVG).decode(), "type": "Image"}
    page = html(client.post("/verify", data={"credential": json.dumps(world.sign(credential))}))
    assert '<img class="badge-image" src="data:image/svg+xml;base64,' in page
    assert "<svg" not in page


# ---------------------------------------------------------------- caching, limits, isolation

def test_keys_and_status_lists_are_cached_per_app(world):
    client = make_app(world).test_client()
    url = world.publish_status_list("/status/1", revoked=[5])
    signed = world.sign(world.with_status(world.unsigned(), url, 6))
    for _ in range(3):
        assert client.post("/api/verify", json={"credential": signed}).get_json()["verified"]
    assert world.server.hits("/.well-known/did.json") == 1 and world.server.hits("/status/1") == 1
    other = make_app(world).test_client()
    assert other.post("/api/verify", json={"credential": signed}).get_json()["verified"]
    assert world.server.hits("/.well-known/did.json") == 2


def test_the_status_list_memo_keeps_successes_only_bounded_and_briefly():
    now = [0.0]
    memo = web_state.StatusListMemo(2, 10.0, clock=lambda: now[0])
    memo["a"] = None
    memo["bad"] = ValueError("the list did not verify")
    assert "a" in memo and memo["a"] is None and "bad" not in memo
    memo["b"] = None
    memo["c"] = None
    assert "a" not in memo and len(memo) == 2                    # the oldest went
    now[0] = 10.0
    assert "b" not in memo and "c" not in memo
    with pytest.raises(KeyError):
        memo["b"]


def test_a_remembered_status_list_still_reports_revocation(world):
    client = make_app(world).test_client()
    url = world.publish_status_list("/status/1", revoked=[3])
    for index, outcome in ((6, "verified"), (3, "not_verified"), (6, "verified"), (3, "not_verified")):
        signed = world.sign(world.with_status(world.unsigned(), url, index))
        assert client.post("/api/verify", json={"credential": signed}).get_json()["outcome"] == outcome
    assert len(client.application.extensions[web_state.STATE]["verifier"].memo) == 1


def test_the_cache_expires(world):
    client = make_app(world, CACHE_TTL=0.2).test_client()
    signed = world.issue()
    client.post("/api/verify", json={"credential": signed})
    time.sleep(0.3)
    client.post("/api/verify", json={"credential": signed})
    assert world.server.hits("/.well-known/did.json") == 2


def test_verifications_are_rate_limited_per_client(world):
    client = make_app(world, RATE_LIMIT="2 per minute").test_client()
    for _ in range(2):
        assert client.post("/api/verify", json={"credential": {}}).status_code == 200
    limited = client.post("/api/verify", json={"credential": {}})
    assert limited.status_code == 429 and limited.mimetype == "application/problem+json"
    assert "Retry-After" in limited.headers
    assert client.post("/verify", data={"credential": "{}"}).status_code == 429   # pages share the budget
    assert client.get("/").status_code == 200                                    # the form costs nothing
    other = client.post("/api/verify", json={"credential": {}}, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(world):
    client = make_app(world, RATE_LIMIT="1 per minute", TRUSTED_PROXIES=1).test_client()
    for address in ("198.51.100.1", "198.51.100.2"):
        response = client.post("/api/verify", json={"credential": {}}, headers={"X-Forwarded-For": address})
        assert response.status_code == 200
    again = client.post("/api/verify", json={"credential": {}}, headers={"X-Forwarded-For": "198.51.100.1"})
    assert again.status_code == 429
    untrusted = make_app(world, RATE_LIMIT="1 per minute").test_client()
    assert untrusted.post("/api/verify", json={"credential": {}}, headers={"X-Forwarded-For": "a"}).status_code == 200
    assert untrusted.post("/api/verify", json={"credential": {}}, headers={"X-Forwarded-For": "b"}).status_code == 429


def test_links_to_one_site_are_rate_limited(world):
    client = make_app(world, TARGET_RATE_LIMIT="2 per minute").test_client()
    url = publish(world, world.issue())
    for _ in range(2):
        assert client.post("/api/verify", json={"url": url}).status_code == 200
    response = client.post("/api/verify", json={"url": url}, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert response.status_code == 429 and "this site" in response.get_json()["detail"]



def test_the_app_has_one_long_lived_fetcher_with_host_limits(world):
    client = make_app(world).test_client()
    verifier = client.application.extensions[web_state.STATE]["verifier"]
    assert isinstance(verifier.fetcher, NetworkFetcher) and verifier.fetcher.limiter is not None
    assert verifier.fetcher.limiter.max_concurrent == 4 and verifier.policy.max_fetches_per_host == 8
    client.post("/api/verify", json={"url": publish(world, world.issue())})
    assert client.application.extensions[web_state.STATE]["verifier"].fetcher is verifier.fetcher
    assert make_app(world).extensions[web_state.STATE]["verifier"].fetcher is not verifier.fetcher


def test_a_site_gets_at_most_the_outbound_rate_of_requests(world):
    client = make_app(world, OUTBOUND_RATE_LIMIT="1 per minute").test_client()
    client.post("/api/verify", json={"url": publish(world, world.issue())})
    second = publish(world, world.issue(), path="/credentials/2")
    response = client.post("/api/verify", json={"url": second}, environ_base={"REMOTE_ADDR": "192.0.2.11"})
    assert response.status_code == 429 and "this site" in response.get_json()["detail"]
    assert world.server.hits("/credentials/2") == 0


def test_every_fetch_of_a_verification_counts_against_the_site(world):
    client = make_app(world, OUTBOUND_RATE_LIMIT="1 per minute").test_client()
    url = world.publish_status_list("/status/1", revoked=[5])
    body = client.post("/api/verify", json={"credential": world.sign(world.with_status(world.unsigned(), url, 6))})
    checks = {check["check"]: check for check in body.get_json()["checks"]}
    assert checks["key"]["status"] == "passed" and checks["status"]["status"] == "indeterminate"
    assert world.server.hits("/.well-known/did.json") == 1 and world.server.hits("/status/1") == 0


def test_a_dead_link_is_asked_once_per_failure_window(world):
    client = make_app(world).test_client()
    world.server.set("/gone", b"down", status=503)
    for address in ("192.0.2.12", "192.0.2.13"):
        body = client.post("/api/verify", json={"url": world.server.url("/gone")},
                           environ_base={"REMOTE_ADDR": address}).get_json()
        assert body["outcome"] == "not_verified" and body["checks"][0]["details"]["fetch_error"] == "http_status"
    assert world.server.hits("/gone") == 1
    assert "remembered" in body["checks"][0]["details"]["error"]

@contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def post_json(base: str, body: dict, timeout: float = 30) -> tuple[dict, float]:
    started = time.monotonic()
    request = urllib.request.Request(f"{base}/api/verify", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read()), time.monotonic() - started


def test_a_slow_issuer_does_not_hold_up_other_verifications(world, tls_material):
    slow = LoopbackServer(tls=tls_material)
    try:
        slow_world = IssuerWorld(slow)
        slow.trickle("/.well-known/did.json", json.dumps(slow_world.did_document).encode(), interval=0.2)
        app = create_app({"ALLOW_HOSTS": {"127.0.0.1"}, "CA_FILE": world.server.ca_file, "FETCH_TIMEOUT": 3.0})
        healthy = world.issue()
        with serving(app) as base:
            post_json(base, {"credential": healthy})                            # warm the key cache
            results: list = []
            waiting = [threading.Thread(target=lambda: results.append(post_json(base, {"credential":
                                                                                       slow_world.issue()})))
                       for _ in range(4)]
            for thread in waiting:
                thread.start()
            time.sleep(0.3)
            times = [post_json(base, {"credential": healthy})[1] for _ in range(10)]
            for thread in waiting:
                thread.join(10)
        assert max(times) < 1.0, times
        assert len(results) == 4
        for body, elapsed in results:
            assert body["outcome"] == "indeterminate" and elapsed < 6
            assert {c["check"]: c["reason"] for c in body["checks"]}["key"] == "key_unresolvable"
    finally:
        slow.stop()


# ---------------------------------------------------------------- mounting, OpenAPI, command

def test_the_blueprint_mounts_at_verify_in_another_app(world):
    host = Flask("host")
    host.config.update(MAX_CONTENT_LENGTH=1024 * 1024, TESTING=True)
    host.register_blueprint(verifier_blueprint({"ALLOW_HOSTS": {"127.0.0.1"}, "CA_FILE": world.server.ca_file},
                                               url_prefix="/verify"))
    client = host.test_client()
    form = client.get("/verify")
    assert form.status_code == 200 and 'action="/verify"' in html(form)
    assert 'href="/verify/static/verifier.css"' in html(form)
    assert client.get("/verify/static/verifier.css").status_code == 200
    url = publish(world, world.issue())
    assert 'data-outcome="verified"' in verdict(client.get("/verify", query_string={"url": url}))
    assert share_link(html(client.get("/verify", query_string={"url": url}))) == ("/verify", url)
    assert client.post("/verify/api/verify", json={"url": url}).get_json()["verified"]
    big = io.BytesIO(b"x" * (3 * 1024 * 1024))                          # above the host app's 1 MiB
    assert client.post("/verify/api/verify", data={"file": (big, "a.json")},
                       content_type="multipart/form-data").status_code == 200
    assert client.get("/verify/openapi.json").get_json()["servers"] == [{"url": "/verify"}]


def test_the_openapi_document(client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"] == "3.1.0" and document["servers"] == [{"url": "/"}]
    operation = document["paths"]["/api/verify"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "multipart/form-data",
                                                        "application/x-www-form-urlencoded"}
    assert {"200", "400", "413", "415", "429"} <= set(operation["responses"])

    def refs(node):
        if isinstance(node, dict):
            yield from ([node["$ref"]] if "$ref" in node else [])
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(document):
        target = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
    request_schema = openapi_validator(document, "VerifyRequest")
    assert request_schema.is_valid({"url": "https://a.example/c", "recipient": ALEX})
    assert request_schema.is_valid({"credential": "eyJ.eyJ.sig"})
    assert not request_schema.is_valid({"url": "https://a.example/c", "credential": {}})
    assert not request_schema.is_valid({"extra": 1, "credential": {}})
    Draft202012Validator.check_schema(openapi_validator(document, "Report").schema)
    assert json.loads(files("verifier.web").joinpath("openapi.json").read_text())["info"]["title"]


def test_the_verifier_package_never_imports_issuer():
    code = ("import sys, verifier.web, verifier.web.cli; "
            "bad = [m for m in sys.modules if m == 'issuer' or m.startswith('issuer.')]; "
            "assert not bad, bad; verifier.web.create_app(); print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_serve_command_options():
    runner = CliRunner()
    result = runner.invoke(verifier_group, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--workers", "--threads", "--allow-host", "--ca-file", "--rate-limit",
                   "--outbound-rate-limit", "--fetch-timeout", "--trusted-proxies", "--dev"):
        assert option in result.output
    bad = runner.invoke(verifier_group, ["serve", "--rate-limit", "lots"])
    assert bad.exit_code == 2 and "--rate-limit" in bad.output
    bad = runner.invoke(verifier_group, ["serve", "--outbound-rate-limit", "lots"])
    assert bad.exit_code == 2 and "--outbound-rate-limit" in bad.output


def test_serve_runs_gunicorn(world):
    port = unused_port()
    process = subprocess.Popen([sys.executable, "-m", "verifier.web.cli", "serve", "--port", str(port),
                                "--workers", "1", "--threads", "4", "--allow-host", "127.0.0.1",
                                "--ca-file", world.server.ca_file, "--no-access-log"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/", timeout=2) as response:
                    assert response.status == 200 and response.headers["Server"] == "gunicorn"
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        body, _ = post_json(base, {"url": publish(world, world.issue())})
        assert body["verified"], body
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "gthread" in output and "Traceback" not in output


def test_served_workers_tune_the_interpreter_for_mixed_load():
    import gc
    import sys

    from verifier.web.cli import GC_THRESHOLDS, SWITCH_INTERVAL, gunicorn_options, tune_interpreter

    assert gunicorn_options("127.0.0.1", 5001, 2, 8, False)["post_worker_init"] is tune_interpreter
    saved = sys.getswitchinterval(), gc.get_threshold()
    try:
        tune_interpreter()
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL) and gc.get_threshold() == GC_THRESHOLDS
    finally:
        sys.setswitchinterval(saved[0])
        gc.set_threshold(*saved[1])
