"""Sharing: content negotiation, the badge page, downloads, baked badges, QR, LinkedIn, profiles, privacy.

Through the Flask test client (base URL ``https://hr.example.com``), plus one loopback HTTP
server where ``microcred verify`` checks the downloaded baked badges as a recruiter would.
The seed is ``microcred demo``'s data: five achievements aligned to ESCO and O*NET, with
rubric results and evidence, awarded to six employees with VC-JWTs. Most tests run on SQLite;
negotiation and the profile rules run on PostgreSQL as well.
"""
from __future__ import annotations

import base64
import io
import json
import re
import struct
import threading
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from click.testing import CliRunner
from flask import Flask
from PIL import Image, ImageDraw
from sqlalchemy import select
from werkzeug.serving import make_server

from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award
from issuer.awards.lifecycle import change_status, renew
from issuer.cli.share import profile
from issuer.config import load_settings
from issuer.db.models import Achievement, Award, Recipient
from issuer.errors import Conflict, NotFound
from issuer.identity import load_issuer
from issuer.setup_service import seed_demo
from issuer.sharing import SharingError, linkedin_url, png_badge, qr_svg
from issuer.web import create_app
from verifier import verify_credential
from verifier.baked import PNG_SIGNATURE, extract_baked
from verifier.cli import verify as verify_command

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}   # what Chromium sends
BASE = "https://hr.example.com"
ALEX = "alex.morgan@example.com"


# ------------------------------------------------------------------ helpers shared with the other sharing tests

class Clock:
    """A settable clock for the app (pages judge validity at clock())."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


def make_app(tmp_path: Path, db_url: str, base_url: str = BASE, clock: Clock | None = None) -> Flask:
    settings = load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys", database_url=db_url,
                             base_url=base_url)
    return create_app(settings, clock=clock)


def seed(app: Flask) -> dict[tuple[str, str], str]:
    """The demo data; returns {(recipient name, achievement name): award id}."""
    state = app.extensions["microcred"]
    result = seed_demo(state.sessions, state.settings)
    return {(a.recipient, a.achievement): a.award_id for a in result.awards}


def issue_custom(app: Flask, *, name: str, email: str, slug: str = "custom", image: str | None = None,
                 recipient_name: str | None = None, jwt: bool = True) -> str:
    """One award of a freshly defined achievement (e.g. a hostile name, or uploaded art)."""
    state = app.extensions["microcred"]
    with state.sessions.begin() as session:
        issuer = load_issuer(session, state.settings)
        if session.scalar(select(Achievement).where(Achievement.slug == slug)) is None:
            session.add(Achievement(issuer_id=issuer.id, slug=slug, name=name, description=f"About {name}",
                                    criteria_narrative=f"Showed {name}", image=image, validity_months=12,
                                    alignments=[{"targetName": name, "targetUrl": "javascript:alert(1)",
                                                 "targetFramework": name}]))
            session.flush()
        ctx = IssuerContext.load(session, state.settings, issuer)
        award, _ = issue_award(session, ctx, AwardRequest(slug, email, name=recipient_name), actor="test", jwt=jwt)
        return award.id


def set_profile(app: Flask, email: str, *, slug: str | None = None, show_name: bool = False) -> str:
    public = app.extensions["microcred"].use.public
    return public.publish_profile(email, slug=slug, show_name=show_name, actor="test").public_profile_slug


def issuer_documents(app: Flask) -> dict[str, bytes]:
    """What the issuer serves (DID document, status lists), for offline verification."""
    client = app.test_client()
    settings = app.extensions["microcred"].settings
    return {settings.url(path): client.get(path).data
            for path in ("/.well-known/did.json", "/status/revocation/1", "/status/suspension/1")}


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def app(db_url, tmp_path, clock):
    app = make_app(tmp_path, db_url, clock=clock)
    yield app
    app.extensions["microcred"].engine.dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def awards(app):
    return seed(app)


def stored(app: Flask, award_id: str) -> Award:
    with app.extensions["microcred"].sessions() as session:
        award = session.get(Award, award_id)
        award.recipient  # noqa: B018 - load while the session is open
        return award


# ------------------------------------------------------------------ content negotiation

def test_the_credential_url_negotiates_page_credential_and_jwt(app, client, awards):
    award_id = awards[("Alex Morgan", "Team Leadership")]
    award = stored(app, award_id)
    path = f"/credentials/{award_id}"
    cases = {
        None: ("application/vc+ld+json", award.credential),
        "*/*": ("application/vc+ld+json", award.credential),
        "application/vc+ld+json": ("application/vc+ld+json", award.credential),
        "application/ld+json": ("application/ld+json", award.credential),
        "application/json": ("application/json", award.credential),
        "application/vc+jwt": ("application/vc+jwt", award.credential_jwt),
        "text/plain": ("text/plain", award.credential_jwt),
        "application/json;q=0.5, application/vc+jwt": ("application/vc+jwt", award.credential_jwt),
        "text/plain;q=0.5, application/ld+json": ("application/ld+json", award.credential),
    }
    for accept, (mimetype, body) in cases.items():
        response = client.get(path, headers={"Accept": accept} if accept else {})
        assert response.status_code == 200, accept
        assert response.mimetype == mimetype, accept
        assert response.data == body.encode("utf-8"), accept       # exactly as issued
        assert response.headers["Vary"] == "Accept"
        assert response.headers["Cache-Control"] == "public, max-age=300, must-revalidate"
    page = client.get(path, headers=HTML)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Vary"] == "Accept" and page.headers["Cache-Control"] == "no-cache"
    assert "Team Leadership" in page.get_data(as_text=True)
    not_acceptable = client.get(path, headers={"Accept": "image/gif"})
    assert not_acceptable.status_code == 406 and not_acceptable.mimetype == "application/problem+json"


@SQLITE_ONLY
def test_without_a_jwt_the_jwt_types_are_not_acceptable(app, client, awards):
    award_id = issue_custom(app, name="Welding", email="sam@example.com", jwt=False)
    for accept in ("application/vc+jwt", "text/plain"):
        assert client.get(f"/credentials/{award_id}", headers={"Accept": accept}).status_code == 406
    assert client.get(f"/credentials/{award_id}", headers={"Accept": "text/plain;q=0.9, application/json;q=0.1"}
                      ).mimetype == "application/json"
    assert client.get(f"/credentials/{award_id}/credential.jwt").status_code == 404
    assert "credential.jwt" not in client.get(f"/credentials/{award_id}", headers=HTML).get_data(as_text=True)


@SQLITE_ONLY
def test_unknown_ids_are_404_as_json_or_as_a_page(client, awards):
    missing = "/credentials/0b5e7f5c-1c1e-4d7a-9a55-3f1d2a0b9c11"
    assert client.get(missing).mimetype == "application/problem+json"
    page = client.get(missing, headers=HTML)
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "There is no such credential." in page.get_data(as_text=True)
    for sub in ("badge.png", "badge.svg", "credential.json", "credential.jwt", "qr.svg", "image.png"):
        assert client.get(f"{missing}/{sub}").status_code == 404
        assert client.get(f"/credentials/not-a-uuid/{sub}").status_code == 404


# ------------------------------------------------------------------ the badge page

@SQLITE_ONLY
def test_the_badge_page_shows_the_achievement_skills_results_issuer_and_verdict(client, awards):
    award_id = awards[("Alex Morgan", "Team Leadership")]
    response = client.get(f"/credentials/{award_id}", headers=HTML)
    html, text = response.get_data(as_text=True), page_text(response)
    assert "<h1 id=\"badge-name\">Team Leadership</h1>" in html
    assert "Leads a team to a shared goal" in text                                 # description
    assert "Led a team of at least three people" in text                          # criteria
    assert '<a href="http://data.europa.eu/esco/skill/1f1d2ff8-c4c1-45cc-9812-6a7ee84a73cb">lead a team</a>' in html
    assert "Management of Personnel Resources" in text and "O*NET Content Model (Skills)" in text
    assert "Assessed proficiency Advanced" in text                                # rubric level, by name
    assert "led the payroll migration team" in text                               # evidence narrative
    assert "Example Corp People Team" in text
    assert "did:web:hr.example.com (hr.example.com) (proven by the signature)" in text
    assert 'class="verdict verdict-verified"' in html
    assert ("Genuine and current: signed by Example Corp People Team — proven: hr.example.com, unchanged since it "
            "was issued") in text
    assert "Signature" in text and "Not revoked" in text                           # the checks, in words
    year = datetime.now(UTC).year
    assert "Valid until" in text and str(year + 2) in text
    assert 'alt="Badge: Team Leadership"' in html and 'alt="QR code that opens this badge page"' in html


@SQLITE_ONLY
def test_the_page_has_link_preview_tags_and_no_inline_script_or_style(client, awards):
    award_id = awards[("Alex Morgan", "Team Leadership")]
    response = client.get(f"/credentials/{award_id}", headers=HTML)
    html = response.get_data(as_text=True)
    url = f"{BASE}/credentials/{award_id}"
    meta = dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', html))
    assert meta["og:title"] == "Team Leadership · Example Corp People Team"
    assert meta["og:url"] == url and meta["og:image"] == f"{url}/image.png"
    assert meta["og:description"].startswith("Leads a team") and meta["og:type"] == "website"
    assert meta["twitter:card"] == "summary" and meta["twitter:image"] == f"{url}/image.png"
    assert meta["og:image:alt"] == "Badge: Team Leadership"
    assert re.findall(r"<script[^>]*>", html) == [f'<script src="{BASE}/static/copy.js" defer>']
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"<[^>]+\son[a-z]+=", html)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    preview = client.get(f"/credentials/{award_id}/image.png")
    assert preview.status_code == 200 and preview.mimetype == "image/png" and preview.data.startswith(PNG_SIGNATURE)
    assert client.get("/static/site.css").mimetype == "text/css"
    assert client.get("/static/copy.js").status_code == 200


@SQLITE_ONLY
def test_a_revoked_credential_still_resolves_and_the_page_says_revoked_with_the_date(app, client, awards):
    award_id = awards[("Priya Natarajan", "Data-Driven Decision Making")]
    state = app.extensions["microcred"]
    change_status(state.sessions, state.settings, award_id, "revoke", reason="assessment fraud", actor="test")
    assert client.get(f"/credentials/{award_id}").data == stored(app, award_id).credential.encode("utf-8")
    response = client.get(f"/credentials/{award_id}", headers=HTML)
    text = page_text(response)
    today = datetime.now(UTC)
    assert response.status_code == 200 and 'verdict verdict-revoked' in response.get_data(as_text=True)
    assert f"The issuer revoked this credential on {today.day} {today:%B %Y}." in text
    assert "assessment fraud" not in text                    # the internal reason stays internal
    change_status(state.sessions, state.settings, awards[("Alex Morgan", "Coaching and Feedback")], "suspend",
                  reason="review", actor="test")
    suspended = page_text(client.get(f"/credentials/{awards[('Alex Morgan', 'Coaching and Feedback')]}", headers=HTML))
    assert "Suspended" in suspended and "The issuer suspended this credential on" in suspended


@SQLITE_ONLY
def test_an_expired_credential_says_expired_and_a_renewed_one_points_to_its_successor(app, client, clock, awards):
    award_id = awards[("Sofia Lindqvist", "Data-Driven Decision Making")]     # valid for 12 months
    clock.now = datetime.now(UTC) + timedelta(days=400)
    response = client.get(f"/credentials/{award_id}", headers=HTML)
    assert 'verdict verdict-expired' in response.get_data(as_text=True)
    assert "This credential expired on" in page_text(response)
    clock.now = None
    state = app.extensions["microcred"]
    new = renew(state.sessions, state.settings, award_id, actor="test")
    html = client.get(f"/credentials/{award_id}", headers=HTML).get_data(as_text=True)
    assert f'<a href="{BASE}/credentials/{new.id}">see the current badge</a>' in html


@SQLITE_ONLY
def test_a_hostile_achievement_name_is_text_everywhere(app, client, awards):
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>{{ config.SECRET_KEY }}'
    award_id = issue_custom(app, name=evil, email="mallory@example.com", recipient_name=evil)
    set_profile(app, "mallory@example.com", slug="mallory", show_name=True)
    for path in (f"/credentials/{award_id}", "/profiles/mallory"):
        html = client.get(path, headers=HTML).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert app.config["SECRET_KEY"] not in html and "{{ config.SECRET_KEY }}" in html
        assert "javascript:" not in html                      # the alignment's targetUrl is not linked


@SQLITE_ONLY
def test_the_page_links_come_from_the_base_url_not_the_host_header(client, awards):
    award_id = awards[("Alex Morgan", "Team Leadership")]
    html = client.get(f"/credentials/{award_id}", headers={**HTML, "Host": "evil.example",
                                                             "X-Forwarded-Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in html and f"{BASE}/credentials/{award_id}/badge.png" in html


# ------------------------------------------------------------------ sharing links

@SQLITE_ONLY
def test_the_linkedin_link_is_prefilled(app, client, awards):
    award_id = awards[("Alex Morgan", "Team Leadership")]
    html = client.get(f"/credentials/{award_id}", headers=HTML).get_data(as_text=True)
    href = re.search(r'id="linkedin" class="[^"]*" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    awarded = datetime.fromisoformat(json.loads(stored(app, award_id).credential)["awardedDate"].replace("Z", "+00:00"))
    assert params == {
        "startTask": "CERTIFICATION_NAME", "name": "Team Leadership", "organizationName": "Example Corp People Team",
        "issueYear": str(awarded.year), "issueMonth": str(awarded.month),
        "expirationYear": str(awarded.year + 2), "expirationMonth": str(awarded.month),
        "certUrl": f"{BASE}/credentials/{award_id}", "certId": award_id,
    }


def test_the_linkedin_link_without_an_expiry_and_with_odd_characters():
    credential = {"id": "https://hr.example.com/credentials/1", "validFrom": "2026-03-05T10:00:00Z",
                  "credentialSubject": {"achievement": {"name": "C++ & Rust: 100% safe?"}}}
    params = parse_qs(urlsplit(linkedin_url(credential, organization="A&B Ltd", cert_id="1")).query)
    assert params["name"] == ["C++ & Rust: 100% safe?"] and params["organizationName"] == ["A&B Ltd"]
    assert params["issueYear"] == ["2026"] and params["issueMonth"] == ["3"]
    assert "expirationYear" not in params and "expirationMonth" not in params


@SQLITE_ONLY
def test_the_verify_link_opens_the_verifier_with_the_credential_url(client, awards):
    award_id = awards[("Alex Morgan", "Team Leadership")]
    html = client.get(f"/credentials/{award_id}", headers=HTML).get_data(as_text=True)
    href = re.search(r'id="verify-link" class="[^"]*" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/verify"
    assert parse_qs(parts.query) == {"url": [f"{BASE}/credentials/{award_id}"]}


def _rasterize_qr(svg: bytes, scale: int = 8) -> Image.Image:
    """Draw the QR SVG's module squares (M x,y H.. V.. H.. z) with Pillow, for zxing."""
    text = svg.decode("utf-8")
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', text).group(1))
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in re.findall(r"M(\d+),(\d+)H", text):
        draw.rectangle([int(x) * scale, int(y) * scale, (int(x) + 1) * scale - 1, (int(y) + 1) * scale - 1], fill=0)
    return image


@SQLITE_ONLY
def test_the_qr_code_decodes_to_the_credential_url(client, awards):
    award_id = awards[("Alex Morgan", "Team Leadership")]
    response = client.get(f"/credentials/{award_id}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    [code] = zxingcpp.read_barcodes(_rasterize_qr(response.data))
    assert code.text == f"{BASE}/credentials/{award_id}"
    assert code.format == zxingcpp.BarcodeFormat.QRCode


def test_qr_codes_decode_for_long_urls():
    url = "https://skills.hr.example.com/a/long/base/path/credentials/" + "0b5e7f5c-1c1e-4d7a-9a55-3f1d2a0b9c11"
    assert zxingcpp.read_barcodes(_rasterize_qr(qr_svg(url)))[0].text == url


# ------------------------------------------------------------------ downloads and baked badges

@SQLITE_ONLY
def test_every_download(app, client, awards):
    award_id = awards[("Alex Morgan", "Team Leadership")]
    award = stored(app, award_id)
    expected = {
        "badge.png": ("image/png", "team-leadership.png"),
        "badge.svg": ("image/svg+xml", "team-leadership.svg"),
        "credential.json": ("application/vc+ld+json", "team-leadership.json"),
        "credential.jwt": ("application/vc+jwt", "team-leadership.jwt"),
    }
    html = client.get(f"/credentials/{award_id}", headers=HTML).get_data(as_text=True)
    for name, (mimetype, filename) in expected.items():
        assert f'<a href="{BASE}/credentials/{award_id}/{name}" download>' in html
        response = client.get(f"/credentials/{award_id}/{name}")
        assert response.status_code == 200 and response.mimetype == mimetype, name
        assert response.headers["Content-Disposition"] == f"attachment; filename={filename}", name
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/credentials/{award_id}/credential.json").data == award.credential.encode("utf-8")
    assert client.get(f"/credentials/{award_id}/credential.jwt").data == award.credential_jwt.encode("ascii")
    svg = client.get(f"/credentials/{award_id}/badge.svg")
    assert "sandbox" in svg.headers["Content-Security-Policy"]


@SQLITE_ONLY
@pytest.mark.parametrize("name", ["badge.png", "badge.svg"])
def test_baked_badges_round_trip_bake_extract_verify(app, client, awards, name):
    award_id = awards[("Alex Morgan", "Team Leadership")]
    data = client.get(f"/credentials/{award_id}/{name}").data
    baked = extract_baked(data)
    assert (baked.format, baked.version, baked.kind) == (name[-3:], "ob3", "json")
    assert baked.value == stored(app, award_id).credential                # exactly as issued
    report = verify_credential(data, offline=True, documents=issuer_documents(app))
    assert report.verified, report.to_dict()["checks"]
    assert report.summary["credential_id"] == f"{BASE}/credentials/{award_id}"


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        chunks.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def _png_with_old_credential() -> bytes:
    """An uploaded PNG that already carries a (stale) baked credential."""
    base = png_badge("Uploaded art", size=64)
    chunks = _png_chunks(base)
    old = b"openbadgecredential\0\0\0\0\0" + b'{"stale": true}'
    stale = struct.pack(">I", len(old)) + b"iTXt" + old + struct.pack(">I", zlib.crc32(b"iTXt" + old))
    out = PNG_SIGNATURE + b"".join(struct.pack(">I", len(body)) + kind + body
                                   + struct.pack(">I", zlib.crc32(kind + body)) for kind, body in chunks[:-1])
    return out + stale + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))


@SQLITE_ONLY
def test_uploaded_png_art_is_baked_without_reencoding_and_an_old_chunk_is_replaced(app, client, awards):
    art = _png_with_old_credential()
    award_id = issue_custom(app, name="Forklift", email="sam@example.com", slug="forklift",
                            image="data:image/png;base64," + base64.b64encode(art).decode("ascii"))
    data = client.get(f"/credentials/{award_id}/badge.png").data
    chunks = _png_chunks(data)
    credential_chunks = [body for kind, body in chunks if kind == b"iTXt" and body.startswith(b"openbadgecredential\0")]
    assert len(credential_chunks) == 1 and b"stale" not in credential_chunks[0]
    assert credential_chunks[0][len(b"openbadgecredential\0"):][0] == 0            # compression flag: none
    assert [body for kind, body in chunks if kind == b"IDAT"] == \
        [body for kind, body in _png_chunks(art) if kind == b"IDAT"]               # pixels untouched
    assert Image.open(io.BytesIO(data)).size == (64, 64)
    report = verify_credential(data, offline=True, documents=issuer_documents(app))
    assert report.verified, report.to_dict()["checks"]
    svg = client.get(f"/credentials/{award_id}/badge.svg").data        # PNG art, shown inside the SVG
    assert b"data:image/png;base64," in svg and extract_baked(svg).kind == "json"


@SQLITE_ONLY
def test_svg_only_art_downloads_as_a_pillow_png(client, awards):
    award_id = awards[("Alex Morgan", "Team Leadership")]     # the generated default art is SVG
    data = client.get(f"/credentials/{award_id}/badge.png").data
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (400, 400) and image.mode == "RGBA"
    assert image.getpixel((200, 30))[3] == 255 and image.getpixel((2, 2))[3] == 0      # a disc on transparency


def _live(app_factory):
    holder = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    holder["app"] = app_factory(f"http://127.0.0.1:{server.server_port}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, holder["app"]


@SQLITE_ONLY
def test_microcred_verify_accepts_the_downloaded_baked_png_and_svg(db_url, tmp_path):
    server, app = _live(lambda base: make_app(tmp_path, db_url, base))
    try:
        awards = seed(app)
        award_id = awards[("Alex Morgan", "Team Leadership")]
        client = app.test_client()
        runner = CliRunner()
        for name in ("badge.png", "badge.svg"):
            path = tmp_path / name
            path.write_bytes(client.get(f"/credentials/{award_id}/{name}").data)
            result = runner.invoke(verify_command, [str(path), "--allow-http-host", "127.0.0.1"])
            assert result.exit_code == 0, result.output
            first = result.output.splitlines()[0]
            assert first.startswith("Verified: issued by ") and "— proven: 127.0.0.1:" in first
            assert "did:web" not in first
        state = app.extensions["microcred"]
        change_status(state.sessions, state.settings, award_id, "revoke", reason="test", actor="test")
        from verifier.verify import _shared_cache
        _shared_cache.clear()
        result = runner.invoke(verify_command, [str(tmp_path / "badge.png"), "--allow-http-host", "127.0.0.1"])
        assert result.exit_code == 1 and "revoked" in result.output.lower()
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["microcred"].engine.dispose()


# ------------------------------------------------------------------ privacy

@SQLITE_ONLY
def test_the_recipient_name_appears_only_where_allowed(app, client, awards):
    award_id = awards[("Alex Morgan", "Team Leadership")]
    paths = [f"/credentials/{award_id}", f"/credentials/{award_id}/credential.json",
             f"/credentials/{award_id}/credential.jwt", f"/credentials/{award_id}/badge.svg",
             f"/credentials/{award_id}/badge.png"]
    for path in paths:
        body = client.get(path, headers=HTML).data
        assert b"Alex" not in body and b"Morgan" not in body, path
        assert ALEX.encode() not in body, path                       # the email never appears
    assert "The recipient's name is not shown publicly." in page_text(client.get(paths[0], headers=HTML))
    slug = set_profile(app, ALEX)                                    # a profile, but the name stays hidden
    assert b"Alex" not in client.get(paths[0], headers=HTML).data
    assert b"Alex" not in client.get(f"/profiles/{slug}", headers=HTML).data
    assert b"Alex" not in client.get(f"/profiles/{slug}.json").data
    set_profile(app, ALEX, show_name=True)
    assert "Awarded to Alex Morgan on" in page_text(client.get(paths[0], headers=HTML))
    assert "<h1>Alex Morgan</h1>" in client.get(f"/profiles/{slug}", headers=HTML).get_data(as_text=True)
    assert client.get(f"/profiles/{slug}.json").get_json()["name"] == "Alex Morgan"
    for path in paths[1:]:
        assert b"Alex" not in client.get(path).data                  # never inside the credential itself


# ------------------------------------------------------------------ profiles

def test_no_profile_until_published_and_none_after_unpublishing(app, client, awards):
    assert client.get("/profiles/alex").status_code == 404
    slug = set_profile(app, ALEX, slug="alex-morgan", show_name=True)
    assert slug == "alex-morgan"
    assert client.get("/profiles/alex-morgan", headers=HTML).status_code == 200
    state = app.extensions["microcred"]
    state.use.public.unpublish_profile(ALEX, actor="test")
    with state.sessions() as session:
        recipient = session.scalar(select(Recipient).where(Recipient.email == ALEX))
        assert (recipient.public_profile_slug, recipient.show_name) == (None, False)
    assert client.get("/profiles/alex-morgan", headers=HTML).status_code == 404
    assert client.get("/profiles/alex-morgan.json").status_code == 404
    award_id = awards[("Alex Morgan", "Team Leadership")]
    assert b"Alex" not in client.get(f"/credentials/{award_id}", headers=HTML).data


def test_profile_slugs_are_validated_unique_and_random_by_default(app, awards):
    slug = set_profile(app, ALEX)
    assert re.fullmatch(r"[a-z2-9]{12}", slug) and "alex" not in slug
    assert set_profile(app, ALEX, show_name=True) == slug                 # publishing again keeps it
    for bad in ("A", "ab", "../etc", "x" * 65, "Alex", "a b c"):
        with pytest.raises(SharingError):
            set_profile(app, ALEX, slug=bad)
    with pytest.raises(Conflict, match="already taken"):
        set_profile(app, "priya.natarajan@example.com", slug=slug)
    with pytest.raises(NotFound, match="no badges"):
        set_profile(app, "nobody@example.com")


def test_the_profile_lists_badges_and_skills_by_framework_with_expired_ones_marked(app, client, clock, awards):
    state = app.extensions["microcred"]
    slug = set_profile(app, "sofia.lindqvist@example.com", slug="sofia", show_name=True)
    # Sofia: Data-Driven Decision Making (12 months) and Conflict Resolution (24 months)
    clock.now = datetime.now(UTC) + timedelta(days=400)
    response = client.get(f"/profiles/{slug}", headers=HTML)
    html, text = response.get_data(as_text=True), page_text(response)
    assert response.status_code == 200 and "<h1>Sofia Lindqvist</h1>" in html
    assert html.index("Conflict Resolution</a>") < html.index("Data-Driven Decision Making</a>")   # current first
    assert re.search(r"Data-Driven Decision Making</a>\s*<span class=\"tag tag-expired\">Expired</span>", html)
    assert not re.search(r"Conflict Resolution</a>\s*<span class=\"tag tag-expired\">", html)
    esco = html.index("<h3 class=\"framework-title\">ESCO")
    onet = html.index("<h3 class=\"framework-title\">O*NET")
    assert html.index("apply conflict management") > esco and html.index("make data-driven decisions") > esco
    assert html.index("Negotiation") > onet and html.index("Judgment and Decision Making") > onet
    assert re.search(r"make data-driven decisions</a>\s*<span class=\"tag tag-expired\">Expired</span>", html)
    assert "from Conflict Resolution" in text
    change_status(state.sessions, state.settings, awards[("Sofia Lindqvist", "Conflict Resolution")], "revoke",
                  reason="test", actor="test")
    assert "Conflict Resolution" not in client.get(f"/profiles/{slug}", headers=HTML).get_data(as_text=True)


@SQLITE_ONLY
def test_the_profile_json_export_holds_the_credentials_as_issued(app, client, awards):
    slug = set_profile(app, ALEX, slug="alex")
    response = client.get(f"/profiles/{slug}.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["profile"] == f"{BASE}/profiles/alex" and "name" not in document
    assert document["issuer"] == {"id": "did:web:hr.example.com", "name": "Example Corp People Team"}
    expected = {json.loads(stored(app, awards[("Alex Morgan", a)]).credential)["id"]: stored(app, awards[("Alex Morgan", a)])
                for a in ("Team Leadership", "Coaching and Feedback")}
    assert {c["id"] for c in document["credentials"]} == set(expected)
    documents = issuer_documents(app)
    for credential in document["credentials"]:
        assert credential == json.loads(expected[credential["id"]].credential)
        assert verify_credential(credential, offline=True, documents=documents).verified


@SQLITE_ONLY
def test_profile_cli_publish_and_unpublish(app, client, awards, tmp_path, monkeypatch, db_url):
    settings = app.extensions["microcred"].settings
    monkeypatch.setenv("MICROCRED_INSTANCE", str(settings.instance))
    monkeypatch.setenv("MICROCRED_KEYS", str(settings.keys_dir))
    monkeypatch.setenv("MICROCRED_BASE_URL", settings.base_url)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    runner = CliRunner()
    result = runner.invoke(profile, ["publish", ALEX.upper(), "--slug", "alex-m", "--show-name"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Published: {BASE}/profiles/alex-m (name shown)"
    assert "Alex Morgan" in client.get("/profiles/alex-m", headers=HTML).get_data(as_text=True)
    result = runner.invoke(profile, ["unpublish", ALEX])
    assert result.exit_code == 0, result.output
    assert client.get("/profiles/alex-m").status_code == 404


# ------------------------------------------------------------------ migration

def test_migration_0002_keeps_existing_recipients_and_awards_both_ways(tmp_path):
    from alembic import command

    from issuer.db import migrate as migrate_module
    from issuer.db.engine import make_engine, session_factory

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        with engine.begin() as connection, migrate_module._config(connection) as config:
            command.upgrade(config, "0001")
        now = "2026-01-01 00:00:00"
        with engine.begin() as connection:
            connection.exec_driver_sql(f"INSERT INTO issuers (id, did, base_url, name, created_at) VALUES "
                                       f"('i', 'did:web:x', 'https://x', 'X', '{now}')")
            connection.exec_driver_sql(f"INSERT INTO achievements (id, issuer_id, slug, name, description, "
                                       f"alignments, tags, result_descriptions, created_at, updated_at) VALUES "
                                       f"('a', 'i', 's', 'S', 'D', '[]', '[]', '[]', '{now}', '{now}')")
            connection.exec_driver_sql(f"INSERT INTO recipients (id, issuer_id, email, created_at) VALUES "
                                       f"('r', 'i', 'e@x.com', '{now}')")
            connection.exec_driver_sql(f"INSERT INTO awards (id, issuer_id, achievement_id, recipient_id, external_key, "
                                       f"evidence, results, awarded_at, valid_from, state, credential, created_at) "
                                       f"VALUES ('w', 'i', 'a', 'r', 'k', '[]', '[]', '{now}', '{now}', 'active', "
                                       f"'{{}}', '{now}')")
        with engine.begin() as connection, migrate_module._config(connection) as config:
            command.upgrade(config, "0002")
        with session_factory(engine)() as session:
            recipient = session.get(Recipient, "r")
            assert (recipient.email, recipient.show_name, recipient.public_profile_slug) == ("e@x.com", False, None)
            assert session.get(Award, "w").recipient is recipient
        with engine.begin() as connection, migrate_module._config(connection) as config:
            command.downgrade(config, "0001")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM awards").scalar() == 1
            assert "show_name" not in connection.exec_driver_sql("SELECT sql FROM sqlite_master "
                                                                 "WHERE name = 'recipients'").scalar()
    finally:
        engine.dispose()
