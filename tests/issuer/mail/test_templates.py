"""Every kind of email, rendered from its templates with realistic data: plain words, the same links in
both parts, a link to "My badges", the issuer's contact, HTML escaped, and the message is multipart;
the HTML part reads at phone and desktop widths in Chromium (axe: no serious or critical violations).

The award kinds are composed from a real award issued on SQLite (the demo issuer, whose profile
has an email address); the sign-in link from what the employees' space passes.
"""
from __future__ import annotations

import email
import email.policy
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from issuer.awards.issuance import AwardRequest
from issuer.db.models import Award
from issuer.mail.compose import KINDS, AwardMail, compose, compose_sign_in
from issuer.mail.kinds import MailKind, label_of
from issuer.mail.outbox import award_mail, build_message
from issuer.mail.render import MailContext, contact_for, render
from tests.browser_fixtures import artifacts_dir, browser, page  # noqa: F401  (fixtures; browser: one per module)
from tests.issuer.mail.test_mail import app, award_and_queue, seeded  # noqa: F401  (fixtures)
from tests.issuer.web.test_sharing import BASE, issue_custom

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

MY_BADGES = f"{BASE}/me/"
SIGN_IN_LINK = f"{BASE}/me/sign-in/Zx8kQ2mN4pL7vR1t"
# spec and implementation words an employee should never have to read
BANNED = ("credential", "verifiable", "json", "jwt", "json-ld", "did:", "open badges", "ob 3", "status list",
          "bitstring", "proof", "issuer", "w3c", "cryptograph", "multibase", "signature", "payload", "rdf",
          "eddsa", "schema", "verification method")
BANNED_CASED = re.compile(r"\b(DID|VC|API|UUID)\b")
URL = re.compile(r"https?://[^\s<>\"]+")
ADDRESS = re.compile(r"(?<![\w/])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class _Html(HTMLParser):
    """The visible text and the link targets of an HTML part."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])
        if tag in ("title", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("title", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse_html(html: str) -> _Html:
    parser = _Html()
    parser.feed(html)
    parser.close()
    return parser


def text_links(text: str) -> set[str]:
    """The links a reader of the text part can follow: URLs, and email addresses (as mailto:)."""
    urls = {u.rstrip(".,;:)") for u in URL.findall(text)}
    addresses = {"mailto:" + a.rstrip(".") for a in ADDRESS.findall(URL.sub(" ", text))}
    return urls | addresses


def jargon(words: str) -> list[str]:
    lowered = words.lower()
    return [w for w in BANNED if w in lowered] + BANNED_CASED.findall(words)


@pytest.fixture()
def award(app, seeded) -> AwardMail:  # noqa: F811
    award_id = award_and_queue(app, AwardRequest("team-leadership", "robin.quinn@example.com", name="Robin Quinn"))
    with app.extensions["microcred"].sessions() as session:
        return award_mail(session.get(Award, award_id))


def every_kind(app, award: AwardMail) -> dict[str, dict]:  # noqa: F811
    settings = app.extensions["microcred"].settings
    emails = {kind: compose(settings, award, kind, reason="Assessment records were incomplete")
              for kind in KINDS}
    emails["sign_in"] = compose_sign_in(settings, organisation="Example Corp People Team", link=SIGN_IN_LINK,
                                        minutes=15, email="people-team@example.com")
    return emails


def test_every_kind_has_a_template_pair_a_label_and_a_subject():
    assert {k.value for k in MailKind} == set(KINDS) | {"sign_in"}
    for kind in MailKind:
        assert kind.label and kind.subject and "credential" not in kind.label.lower()
    assert label_of(None) == label_of("party") == "Email" and label_of("revoked") == "Revocation notice"


@SQLITE_ONLY
def test_every_email_is_in_plain_words_with_the_same_links_in_both_parts(app, award):  # noqa: F811
    for kind, fields in every_kind(app, award).items():
        text, html = fields["body"], fields["html"]
        parsed = parse_html(html)
        visible = " ".join(parsed.text)
        readable_text = URL.sub(" ", text)
        assert jargon(fields["subject"]) == [], (kind, fields["subject"])
        assert jargon(readable_text) == [], (kind, jargon(readable_text), text)
        assert jargon(visible) == [], (kind, jargon(visible))
        assert set(parsed.hrefs) == text_links(text), kind
        assert MY_BADGES in parsed.hrefs and "My badges" in visible and MY_BADGES in text, kind
        assert "mailto:people-team@example.com" in parsed.hrefs, kind      # the issuer's contact, every kind
        assert fields["kind"] == kind and fields["subject"]
        assert "Hello Robin Quinn," in text or kind == "sign_in"


@SQLITE_ONLY
def test_each_kind_says_what_it_is_about(app, award):  # noqa: F811
    emails = every_kind(app, award)
    page = f"{BASE}/credentials/{award.award_id}"
    until = award.valid_until.date().isoformat()
    assert emails["awarded"]["subject"] == "Your new badge: Team Leadership"
    assert page in emails["awarded"]["body"] and emails["awarded"]["attachment_name"] == "team-leadership.png"
    assert emails["renewed"]["subject"] == "Your badge has been renewed: Team Leadership"
    assert emails["expiring"]["subject"] == f"Your badge expires on {until}: Team Leadership"
    assert f"valid until {until}" in emails["expiring"]["body"]
    assert "ask Example Corp People Team to renew it: people-team@example.com" in emails["expiring"]["body"]
    revoked, suspended = emails["revoked"], emails["suspended"]
    assert revoked["subject"] == "Your badge has been withdrawn: Team Leadership"
    assert suspended["subject"] == "Your badge is on hold: Team Leadership"
    for notice in (revoked, suspended):
        assert "The reason given: Assessment records were incomplete" in notice["body"]
        assert "What this means for you:" in notice["body"] and notice["attachment_name"] is None
        assert "Assessment records were incomplete" in " ".join(parse_html(notice["html"]).text)
    assert "cannot be undone" in revoked["body"] and "can be lifted" in suspended["body"]
    reinstated = emails["reinstated"]
    assert reinstated["subject"] == "Your badge counts again: Team Leadership"
    assert "the badge counts again" in reinstated["body"] and f"is valid (until {until})" in reinstated["body"]
    assert page in reinstated["body"] and reinstated["attachment_name"] is None
    sign_in = emails["sign_in"]
    assert sign_in["subject"] == "Your sign-in link for Example Corp People Team"
    assert SIGN_IN_LINK in sign_in["body"] and "for 15 minutes" in sign_in["body"]
    assert SIGN_IN_LINK in parse_html(sign_in["html"]).hrefs and sign_in["attachment_name"] is None


@SQLITE_ONLY
def test_a_notice_without_a_reason_says_none(app, award):  # noqa: F811
    settings = app.extensions["microcred"].settings
    fields = compose(settings, award, "suspended")
    assert "reason" not in fields["body"].lower() and "reason" not in fields["html"].lower()


@SQLITE_ONLY
def test_names_and_reasons_are_escaped_in_html_and_cannot_add_links(app, seeded):  # noqa: F811
    evil = 'Forklift <script>alert(1)</script> <a href="https://evil.example">x</a>'
    award_id = issue_custom(app, name=evil, email="sam@example.com", recipient_name='Sam "<img src=x>"')
    state = app.extensions["microcred"]
    with state.sessions() as session:
        mail = award_mail(session.get(Award, award_id))
    for kind in ("awarded", "revoked"):
        fields = compose(state.settings, mail, kind, reason='<b onmouseover="x()">late</b>')
        html = fields["html"]
        assert "<script>" not in html and "<img" not in html and "<b onmouseover" not in html
        assert "&lt;script&gt;" in html and "https://evil.example" not in parse_html(html).hrefs
        assert set(parse_html(html).hrefs) == text_links(fields["body"]) - {"https://evil.example"}


def test_the_contact_is_the_issuers_email_else_its_web_address():
    assert contact_for("people@example.com", "https://example.com").href == "mailto:people@example.com"
    assert contact_for(None, "https://example.com") == contact_for("", "https://example.com")
    assert contact_for(None, "https://example.com").href == "https://example.com"
    assert contact_for("not an address", "javascript:alert(1)") is None
    assert contact_for("a@b.example?bcc=c@d.example", None) is None
    assert contact_for("a@b.example?cc=x", "https://example.com").href == "https://example.com"
    context = MailContext(greeting="Sam", organisation="Example Corp", my_badges_url=MY_BADGES,
                          contact=contact_for(None, "https://example.com/people"), badge="SQL",
                          badge_url=f"{BASE}/credentials/1", until="2027-01-31")
    rendered = render(MailKind.EXPIRING, context)
    assert "https://example.com/people" in parse_html(rendered.html).hrefs
    assert "ask Example Corp to renew it: https://example.com/people" in rendered.text
    without = render(MailKind.EXPIRING, MailContext(greeting="Sam", organisation="Example Corp",
                                                    my_badges_url=MY_BADGES, badge="SQL",
                                                    badge_url=f"{BASE}/credentials/1", until="2027-01-31"))
    assert "ask Example Corp to renew it." in without.text and set(parse_html(without.html).hrefs) == \
        {MY_BADGES, f"{BASE}/credentials/1"}


@SQLITE_ONLY
def test_the_message_is_multipart_alternative_with_the_attachment(app, award):  # noqa: F811
    fields = every_kind(app, award)["awarded"]
    row = SimpleNamespace(to_name="Robin Quinn", to_address="robin.quinn@example.com", attachment=None, **fields)
    message = build_message(row, "People Team <people@example.com>", b"\x89PNG fake bytes")
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content() == fields["body"]
    assert parsed.get_body(("html",)).get_content().strip() == fields["html"].strip()
    assert attachment.get_filename() == "team-leadership.png"
    # a row queued before HTML existed is sent as text only
    old = SimpleNamespace(**{**vars(row), "html": None, "attachment_name": None})
    plain = email.message_from_bytes(build_message(old, "p@example.com").as_bytes(), policy=email.policy.default)
    assert plain.get_content_type() == "text/plain" and plain.get_content() == fields["body"]


@SQLITE_ONLY
@pytest.mark.parametrize("width", [390, 1280])
def test_every_html_email_reads_well_in_a_browser(app, award, page, artifacts_dir, width):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    page.set_viewport_size({"width": width, "height": 900})
    for kind, fields in every_kind(app, award).items():
        page.set_content(fields["html"])
        assert page.title() == fields["subject"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width, kind
        page.screenshot(path=str(artifacts_dir / f"email-{kind}-{width}.png"), full_page=True)
        violations = [(v["id"], v["impact"]) for v in Axe().run(page).response["violations"]
                      if v["impact"] in ("serious", "critical")]
        assert violations == [], kind
