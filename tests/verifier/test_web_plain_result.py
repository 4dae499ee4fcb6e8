"""The verifier's result page reads like a badge page (issue 14 §2), through Flask's test client
against a real issuer on loopback HTTPS (tests/verifier/issuer_world.py).

What a recruiter reads: who issued it (name and proven website, never a DID outside the technical
details), what the badge says (criteria, evidence, assessed results and levels, validity dates,
links to human pages), the revocation reason and date when the issuer gives them; and for input
that is not a badge (random text, an image without a badge, a web page), one sentence and no cards.
Untrusted text is escaped and only http(s) links reach an ``href``.
"""
from __future__ import annotations

import io
import json
import re

import pytest

from tests.verifier.issuer_world import IssuerWorld
from tests.verifier.test_plain_words import jargon
from tests.verifier.test_web_app import html, make_app, png_bytes, publish, verdict


@pytest.fixture()
def world(https_server):
    world = IssuerWorld(https_server)
    yield world
    world.close()


@pytest.fixture()
def client(world):
    return make_app(world).test_client()


def assessed(world, **changes) -> dict:
    """The sample badge with evidence, an assessed result at a rubric level, criteria and an end date."""
    credential = world.unsigned(**changes)
    achievement = credential["credentialSubject"]["achievement"]
    achievement["id"] = world.server.url("/achievements/teamwork")
    achievement["criteria"]["id"] = "https://hr.example/criteria/teamwork"
    achievement["resultDescription"] = [{
        "type": ["ResultDescription"], "id": "urn:uuid:rd-1", "name": "360-degree review",
        "resultType": "RubricCriterionLevel",
        "rubricCriterionLevel": [{"type": ["RubricCriterionLevel"], "id": "urn:uuid:lv-1", "name": "Exemplary",
                                  "description": "Leads cross-team work."}]}]
    credential["credentialSubject"]["result"] = [{"type": ["Result"], "resultDescription": "urn:uuid:rd-1",
                                                  "achievedLevel": "urn:uuid:lv-1"}]
    credential["evidence"] = [{"type": ["Evidence"], "id": "https://reviews.example/360/alex", "name": "Peer review",
                               "narrative": "Nominated by four peers.\nConfirmed by the review panel."}]
    credential["validUntil"] = "2031-03-01T12:00:00Z"
    credential["issuer"]["url"] = "https://example.com/"
    return credential


def shown_part(page: str) -> str:
    """The page as a recruiter reads it: without the technical details, tags and entities."""
    main = page[page.index("<main"):page.index("<details") if "<details" in page else page.index("</main>")]
    main = re.sub(r"</?(bdi|strong|span|a|code)\b[^>]*>", "", main)             # inline: no word break
    text = re.sub(r"<[^>]+>", " ", main).replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"')
    return re.sub(r"\s+", " ", text)


def test_the_result_shows_what_a_badge_page_shows(client, world):
    url = publish(world, world.sign(assessed(world)))
    page = html(client.get("/verify", query_string={"url": url}))
    text = shown_part(page)
    assert f"Issued by Example Corp People Team — proven: {world.server.netloc}" in text
    assert "For Teamwork, valid from 15 January 2026, 09:00 UTC." in text
    assert "How it is earned Nominated by at least three peers" in text                  # criteria
    assert "360-degree review Exemplary Leads cross-team work." in text                   # result, at its level
    assert "Peer review on reviews.example Nominated by four peers." in text              # evidence
    assert "Valid from 15 January 2026, 09:00 UTC Valid until 1 March 2031, 12:00 UTC" in text
    assert "No end date given" not in text
    for link in ("https://hr.example/criteria/teamwork", "https://reviews.example/360/alex",
                 world.server.url("/achievements/teamwork"), "https://example.com/",
                 "https://www.onetonline.org/find/descriptor/result/2.B.1.a"):
        assert f'href="{link}"' in page, link
    assert "did:" not in text and "%3A" not in text and jargon(text) == [], jargon(text)
    technical = page[page.index("<details"):]
    assert world.did in technical and '<code class="reason-code">no_status</code>' in technical


def test_only_http_links_reach_the_page_and_text_is_escaped(client, world):
    credential = assessed(world)
    credential["evidence"][0]["id"] = "javascript:alert(1)"
    credential["credentialSubject"]["achievement"]["criteria"]["id"] = "data:text/html,<script>alert(2)</script>"
    credential["credentialSubject"]["achievement"]["criteria"]["narrative"] = "<script>alert(3)</script>\u202eevil"
    credential["issuer"]["url"] = "//evil.example/"
    page = html(client.post("/verify", data={"credential": json.dumps(world.sign(credential))}))
    shown = page[:page.index("<details")]
    links = re.findall(r'(?:href|src)="([^"]*)"', page)
    assert [link for link in links if not link.startswith(("https://", "/", "#"))] == [], links
    assert "javascript:" not in shown and "data:text" not in shown and "//evil.example" not in shown
    assert "<script>" not in page and "&lt;script&gt;alert(3)&lt;/script&gt;[U+202E]evil" in shown
    assert "Peer review" in shown                                                   # shown, without a link


def test_a_revoked_badge_gives_the_date_of_the_issuers_list(client, world):
    url = world.publish_status_list("/status/1", revoked=[3], valid_from="2026-03-02T10:30:00Z")
    response = client.post("/verify", data={"credential": json.dumps(world.sign(world.with_status(
        assessed(world), url, 3)))})
    top = verdict(response)
    assert "Not verified" in top and "The issuer has revoked this badge." in top
    assert "Revoked on or before 2 March 2026, 10:30 UTC (the date of the issuer's list)." in top
    text = shown_part(html(response))
    assert "Revoked Yes, on or before 2 March 2026, 10:30 UTC" in text
    assert "It did not verify, so what follows is only what it claims." in text
    assert "Peer review" in text                                                     # still says what it was
    older = world.publish_status_list("/status/old", revoked=[3], valid_from="2026-01-01T00:00:00Z")
    top = verdict(client.post("/verify", data={"credential": json.dumps(world.sign(world.with_status(
        assessed(world), older, 3)))}))
    assert "The issuer has revoked this badge." in top and "on or before" not in top   # a list older than the badge


def test_a_revocation_reason_the_issuer_gives_is_shown(client, world):
    url = world.publish_status_list("/status/2", revoked=[5])
    credential = world.with_status(world.unsigned(), url, 5)
    credential["credentialStatus"]["statusMessage"] = [{"status": "0x0", "message": "Valid"},
                                                       {"status": "0x1", "message": "Awarded <b>by mistake</b>"}]
    top = verdict(client.post("/verify", data={"credential": json.dumps(world.sign(credential))}))
    assert "The issuer has revoked this badge." in top
    assert "Reason the issuer gives: “<bdi>Awarded &lt;b&gt;by mistake&lt;/b&gt;</bdi>”." in top


NOT_BADGES = {
    "random text": ({"credential": "hello, is this a badge?"}, "This is not a badge: it is not a badge file, a badge "
                    "image or the text of a signed badge."),
    "a png without a badge": ({"file": (png_bytes(), "photo.png")},
                              "This image is not a badge: it carries no badge information."),
    "a json that is not a badge": ({"credential": '{"name": "Alex", "skills": ["Python"]}'},
                                   "This is not a badge, or not one made to the Open Badges standard: it does not "
                                   "say which standard it follows."),
}


@pytest.mark.parametrize("name", sorted(NOT_BADGES))
def test_input_that_is_not_a_badge_gets_one_sentence_and_no_cards(client, name):
    data, sentence = NOT_BADGES[name]
    data = {k: (io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v for k, v in data.items()}
    page = html(client.post("/verify", data=data, content_type="multipart/form-data"))
    text = shown_part(page)
    assert text.strip().endswith(f"Not verified {sentence}"), text
    for card in ("The badge", "Who issued it", "Recipient", "Every check", "Share"):
        assert f">{card}</h2>" not in page, card
    assert "Check another badge" in page


def test_a_web_page_at_the_link_is_not_a_badge(client, world):
    world.server.set("/about", b"<!doctype html><title>About us</title><h1>Hello</h1>", content_type="text/html")
    page = html(client.get("/verify", query_string={"url": world.server.url("/about")}))
    assert shown_part(page).strip().endswith("Not verified The page at this address is not a badge.")
    assert "Every check</h2>" not in page and "About us" not in page                    # nothing of it shown back


def test_a_link_over_plain_http_says_why_in_plain_words(world):
    client = make_app(world, ALLOW_HOSTS=set()).test_client()
    response = client.get("/verify", query_string={"url": "http://127.0.0.1:9/credential"})
    assert ("The badge could not be fetched from its address: the address uses plain http, which is refused."
            in verdict(response))
    assert "Every check</h2>" not in html(response)


def test_the_form_speaks_of_badges_in_plain_words(client):
    page = html(client.get("/"))
    text = shown_part(page)
    assert "Check a digital badge" in text and jargon(text) == [], jargon(text)
    error = shown_part(html(client.post("/verify", data={})))
    assert "Give one badge: its link, its pasted text, or its file." in error and jargon(error) == []


@pytest.mark.parametrize("url", ["https://[]/credential", "https://[::1/credential", "https://[v1.x]/c"])
def test_a_link_with_a_malformed_host_is_a_plain_refusal_not_an_error(client, url):
    response = client.get("/verify", query_string={"url": url})
    assert response.status_code == 200
    assert "The badge could not be fetched from its address: the address is malformed." in verdict(response)
    api = client.post("/api/verify", json={"url": url})
    assert api.status_code == 200 and api.get_json()["checks"][0]["details"]["fetch_error"] == "invalid_url"


def test_markdown_in_the_badge_is_rendered_and_stays_inert(client, world):
    """An issuer's description and criteria are Markdown (OB 3.0): shown rendered, and text from a
    hostile issuer stays inert (no script, no javascript: link, no image loaded)."""
    credential = assessed(world)
    achievement = credential["credentialSubject"]["achievement"]
    achievement["description"] = "Works **across teams**. <img src=x onerror=alert(1)>"
    achievement["criteria"]["narrative"] = ("1. Nominated by [peers](https://reviews.example/how)\n"
                                            "2. [click](javascript:alert(1)) <script>alert(2)</script>")
    page = html(client.get("/verify", query_string={"url": publish(world, world.sign(credential))}))
    assert "Works <strong>across teams</strong>. &lt;img src=x onerror=alert(1)&gt;" in page
    assert '<a href="https://reviews.example/how" rel="noopener noreferrer nofollow">peers</a>' in page
    assert "<ol>" in page and "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    body = page[page.index("<main"):page.index("<details")]
    assert "<script" not in body and "<img src=x" not in body and 'href="javascript:' not in body
