"""The share kit's pure builders (issuer.sharing): LinkedIn profile and feed links, email, embed snippet.

Every link is parsed back (urllib) rather than compared as a string, and the embed snippet is
parsed as HTML, so a hostile achievement or issuer name can be shown to stay text.
"""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from issuer.sharing import (
    LINKEDIN_ORGANIZATION_ID,
    SLUG,
    embed_snippet,
    linkedin_feed_url,
    linkedin_url,
    mailto_url,
    withheld,
)

PAGE = "https://hr.example.com/credentials/0b5e7f5c-1c1e-4d7a-9a55-3f1d2a0b9c11"
CREDENTIAL = {"id": PAGE, "awardedDate": "2026-03-05T10:00:00Z", "validUntil": "2028-11-05T10:00:00Z",
              "credentialSubject": {"achievement": {"name": "Team Leadership"}}}


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query, strict_parsing=True).items()}


def test_add_to_profile_names_the_organisation_without_an_id():
    url = linkedin_url(CREDENTIAL, organization="Example Corp", cert_id="0b5e")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    assert query(url) == {"startTask": "CERTIFICATION_NAME", "name": "Team Leadership",
                          "organizationName": "Example Corp", "issueYear": "2026", "issueMonth": "3",
                          "expirationYear": "2028", "expirationMonth": "11", "certUrl": PAGE, "certId": "0b5e"}


def test_add_to_profile_uses_the_company_id_instead_of_the_name_when_set():
    params = query(linkedin_url(CREDENTIAL, organization="Example Corp", cert_id="0b5e", organization_id="1337"))
    assert params["organizationId"] == "1337" and "organizationName" not in params
    assert params["name"] == "Team Leadership" and params["certUrl"] == PAGE


def test_the_feed_link_shares_the_page_url():
    url = linkedin_feed_url(PAGE + "?a=1&b=2")
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("www.linkedin.com", "/sharing/share-offsite/")
    assert query(url) == {"url": PAGE + "?a=1&b=2"}


def test_the_email_link_has_a_plain_subject_and_body_with_the_link():
    url = mailto_url("C++ & Rust: 100% safe?", "A&B Ltd", PAGE)
    assert url.startswith("mailto:?") and "+" not in url                   # RFC 6068: spaces are %20
    params = {k: unquote(v) for k, v in (pair.split("=", 1) for pair in url[len("mailto:?"):].split("&"))}
    assert params["subject"] == "My badge: C++ & Rust: 100% safe?"
    assert "“C++ & Rust: 100% safe?” from A&B Ltd" in params["body"] and PAGE in params["body"]
    assert "credential" not in params["body"].replace(PAGE, "").lower()


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_the_embed_snippet_is_a_card_linking_the_page_and_hostile_names_stay_text():
    evil = '<script>alert(1)</script>" onmouseover="x'
    snippet = embed_snippet(evil, "Evil & <Co>", PAGE, PAGE + "/image.png")
    parsed = Elements()
    parsed.feed(snippet)
    tags = [tag for tag, _ in parsed.tags]
    assert tags == ["div", "a", "img", "p", "a", "strong", "br", "small"]
    links = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert links == [PAGE, PAGE]
    [img] = [attrs for tag, attrs in parsed.tags if tag == "img"]
    assert img["src"] == PAGE + "/image.png" and img["alt"] == f"Badge: {evil}"
    assert not any(name.startswith("on") for _, attrs in parsed.tags for name in attrs)
    text = "".join(parsed.text)
    assert evil in text and "Issued by Evil & <Co>." in text
    assert "style=" not in snippet and "<script" not in snippet


@pytest.mark.parametrize(("award_state", "verdict_state", "expected"), [
    ("active", "verified", None), ("expired", "expired", None), ("superseded", "verified", None),
    ("revoked", "revoked", "revoked"), ("suspended", "", "suspended"), ("active", "revoked", "revoked"),
])
def test_revoked_and_suspended_badges_are_withheld_whichever_side_says_so(award_state, verdict_state, expected):
    assert withheld(award_state, verdict_state) == expected


@pytest.mark.parametrize("value", ["1337", "12345678901234567890"])
def test_linkedin_company_ids_are_digits(value):
    assert LINKEDIN_ORGANIZATION_ID.match(value)


@pytest.mark.parametrize("value", ["", "abc", "12 34", "-1", "123456789012345678901", "1337\n",
                                   "https://www.linkedin.com/company/1337"])
def test_anything_else_is_not_a_linkedin_company_id(value):
    assert not LINKEDIN_ORGANIZATION_ID.match(value)


def test_a_profile_slug_with_a_trailing_newline_is_refused():
    assert SLUG.match("alex-m") and not SLUG.match("alex-m\n")
