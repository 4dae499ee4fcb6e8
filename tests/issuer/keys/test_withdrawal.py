"""Keys can be withdrawn: rotation destroys the old private key; a compromised key is withdrawn
and what it signed is re-issued — on SQLite and PostgreSQL, against the live issuer on loopback.

The issuer is served on 127.0.0.1 (``did:web:127.0.0.1%3APORT``); the CLI commands run in-process
against the same database, and ``microcred verify`` runs as a separate process, like a
recruiter's verifier meeting the issuer for the first time.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from copy import deepcopy
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug.serving import make_server

from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award
from issuer.cli import main
from issuer.config import load_settings
from issuer.db.models import Achievement, AuditEntry, Award, IssuerKey, OutboxMessage, StatusList
from issuer.identity import load_issuer
from issuer.keys.files import load_key
from issuer.keys.keyring import KeyringError, current_key, withdraw_key
from issuer.setup import init_instance
from issuer.signing import sign_credential
from issuer.web import create_app
from tests.admin_support import Console, add_staff, console_app, page_text
from verifier import verify_credential
from verifier.fetcher import FetchPolicy, ResponseCache

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def live(db_url, tmp_path, monkeypatch):
    """The issuer on a loopback server, and the CLI's environment pointing at the same installation."""
    holder = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    settings = load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys", database_url=db_url,
                             base_url=base_url)
    holder["app"] = create_app(settings)
    for key, value in {"MICROCRED_INSTANCE": str(tmp_path / "instance"), "MICROCRED_KEYS": str(tmp_path / "keys"),
                       "MICROCRED_BASE_URL": base_url, "DATABASE_URL": db_url}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MICROCRED_KEY_PASSPHRASE", raising=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        init_instance(settings, name="Example Corp")
        yield holder["app"]
    finally:
        server.shutdown()
        server.server_close()
        holder["app"].extensions["microcred"].engine.dispose()


def sessions(app):
    return app.extensions["microcred"].sessions


def settings_of(app):
    return app.extensions["microcred"].settings


def issue(app, email: str, *, jwt: bool = False) -> str:
    settings = settings_of(app)
    with sessions(app).begin() as session:
        issuer = load_issuer(session, settings)
        if session.scalar(select(Achievement).where(Achievement.slug == "sql")) is None:
            session.add(Achievement(issuer_id=issuer.id, slug="sql", name="SQL fundamentals",
                                    description="Writes correct SQL queries.", validity_months=12))
            session.flush()
        award, _ = issue_award(session, IssuerContext.load(session, settings, issuer), AwardRequest("sql", email),
                               actor="test", jwt=jwt)
        return award.id


def run(*args: str, code: int = 0, **kwargs):
    result = CliRunner().invoke(main, list(args), **kwargs)
    assert result.exit_code == code, (result.output, result.exception)
    return result


def award(app, award_id: str) -> Award:
    with sessions(app)() as session:
        row = session.get(Award, award_id)
        session.expunge(row)
        return row


def keys_by_id(app) -> dict[str, IssuerKey]:
    with sessions(app)() as session:
        rows = session.scalars(select(IssuerKey).order_by(IssuerKey.id)).all()
        for row in rows:
            session.expunge(row)
        return {row.key_id: row for row in rows}


def over_http(app, award_id: str):
    url = settings_of(app).url(f"/credentials/{award_id}")
    return verify_credential(url, policy=FetchPolicy(allow_hosts=frozenset({"127.0.0.1"})), cache=ResponseCache())


def offline(app, award_id: str):
    settings = settings_of(app)
    with sessions(app)() as session:
        ctx = IssuerContext.load(session, settings, load_issuer(session, settings))
        credential = json.loads(session.get(Award, award_id).credential)
    return verify_credential(credential, offline=True, documents=ctx.documents)


def microcred_verify(path: Path) -> tuple[int, dict]:
    """``microcred verify FILE --allow-http-host 127.0.0.1 --json`` in a fresh process (no cached documents)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_") and k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", "from issuer.cli import main; main()", "verify", str(path),
                           "--allow-http-host", "127.0.0.1", "--json"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    return done.returncode, json.loads(done.stdout)


def forge(app, pair, method: str, tmp_path: Path, template_id: str) -> Path:
    """A credential the issuer never issued, signed with ``pair`` as ``method`` (what a thief could make)."""
    credential = deepcopy(json.loads(award(app, template_id).credential))
    del credential["proof"]
    credential["id"] = settings_of(app).url("/credentials/00000000-0000-4000-8000-00000000f04e")
    credential["name"] = "Forged badge"
    signed = sign_credential(credential, pair, verification_method=method)
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(signed))
    return path


def failing(report) -> list[tuple[str, str | None]]:
    return [(c.check, c.reason) for c in report.checks if c.status in ("failed", "indeterminate")]


# ------------------------------------------------------------------ rotation

def test_rotation_deletes_the_old_private_key_and_old_credentials_still_verify(live, tmp_path):
    old = issue(live, "alex@example.com", jwt=True)
    key_1 = keys_by_id(live)["key-1"]
    key_file = Path(settings_of(live).keys_dir) / key_1.key_file
    assert key_file.exists()

    out = run("keys", "rotate").output
    assert "#key-2" in out and "deleted" in out
    assert not key_file.exists()                                  # destroyed once the rotation committed
    keys = keys_by_id(live)
    assert (keys["key-1"].state, keys["key-2"].state) == ("retired", "current")
    listed = run("keys", "list").output.splitlines()
    assert listed[0].startswith("key-1\tEd25519\tretired") and listed[1].startswith("key-2\tEd25519\tcurrent")

    new = issue(live, "sam@example.com")
    assert json.loads(award(live, new).credential)["proof"]["verificationMethod"].endswith("#key-2")
    for award_id in (old, new):
        assert offline(live, award_id).verified, failing(offline(live, award_id))
        report = over_http(live, award_id)
        assert report.verified, (award_id, failing(report))
    document = sessions_did(live)
    assert f"{document['id']}#key-1" in document["assertionMethod"]   # retired keys still vouch for the past
    with sessions(live)() as session:
        row, _pair = current_key(session, settings_of(live), load_issuer(session, settings_of(live)))
        assert row.key_id == "key-2"                               # signing never uses a retired key
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "rotate_key")).one()
        assert entry.details["key"].endswith("#key-2")
        lists = session.scalars(select(StatusList)).all()           # signed again with the new key at once
        assert lists and {json.loads(status.credential)["proof"]["verificationMethod"].rsplit("#", 1)[1]
                          for status in lists} == {"key-2"}


def sessions_did(app) -> dict:
    return app.test_client().get("/.well-known/did.json").get_json()


def test_rotate_can_export_the_old_key_once_encrypted(live, tmp_path, monkeypatch):
    before = keys_by_id(live)["key-1"]
    exported = tmp_path / "old-key.jwk"
    monkeypatch.setenv("MICROCRED_KEY_PASSPHRASE", "a long export passphrase")
    out = run("keys", "rotate", "--export-old", str(exported)).output
    assert str(exported) in out
    wrapper = json.loads(exported.read_text())
    assert "microcred_encrypted_key" in wrapper and '"d"' not in exported.read_text()
    assert oct(exported.stat().st_mode & 0o777) == "0o600"
    assert load_key(exported).public.to_multibase() == before.public_multibase
    assert not (Path(settings_of(live).keys_dir) / before.key_file).exists()
    # never over an existing file: nothing changes
    result = run("keys", "rotate", "--export-old", str(exported), code=2)
    assert "already exists" in result.output
    assert [k.state for k in keys_by_id(live).values()] == ["retired", "current"]


# ------------------------------------------------------------------ withdrawal

def test_a_compromised_key_is_withdrawn_and_what_it_signed_is_reissued(live, tmp_path):
    alex = issue(live, "alex@example.com", jwt=True)
    sam = issue(live, "sam@example.com")
    revoked = issue(live, "kim@example.com")
    run("revoke", revoked, "--reason", "left before finishing")
    key_1 = keys_by_id(live)["key-1"]
    stolen = load_key(Path(settings_of(live).keys_dir) / key_1.key_file)   # what a thief copied
    did = settings_of(live).did
    forged = forge(live, stolen, f"{did}#key-1", tmp_path, alex)
    code, report = microcred_verify(forged)
    assert code == 0, report                                       # before: the forgery passes

    result = run("keys", "revoke", "key-1", "--compromised", "--reason", "laptop stolen", code=2)
    assert "rotate first" in result.output and "current" in result.output     # the only current key
    run("keys", "rotate")
    result = run("keys", "revoke", "key-1", "--reason", "laptop stolen", code=2)
    assert "--compromised" in result.output
    out = run("keys", "revoke", f"{did}#key-1", "--compromised", "--reason", "laptop stolen").output
    assert "withdrawn" in out and "2 badges re-issued" in out

    # the key is gone from everything the issuer publishes
    document = sessions_did(live)
    assert f"{did}#key-1" not in document["assertionMethod"]
    assert f"{did}#key-1" not in [m["id"] for m in document["verificationMethod"]]
    assert document["assertionMethod"] == [f"{did}#key-2"]
    jwks = live.test_client().get("/.well-known/jwks.json").get_json()
    assert [k["kid"] for k in jwks["keys"]] == [f"{did}#key-2"]
    assert "key-1" not in live.test_client().get("/issuer").get_data(as_text=True)
    assert keys_by_id(live)["key-1"].state == "withdrawn"

    # the forgery no longer verifies, through microcred verify against the live issuer
    code, report = microcred_verify(forged)
    assert code == 1
    reasons = {c["reason"] for c in report["checks"] if c["status"] == "failed"}
    assert reasons & {"key_not_found", "method_not_in_assertion_method"}, report["checks"]

    # the affected awards were re-issued with the current key; the old ones are superseded
    for old_id in (alex, sam):
        old = award(live, old_id)
        assert old.state == "superseded" and old.superseded_by and "laptop stolen" in old.state_reason
        new = award(live, old.superseded_by)
        assert json.loads(new.credential)["proof"]["verificationMethod"] == f"{did}#key-2"
        assert new.awarded_at == old.awarded_at and new.valid_until == old.valid_until
        report = over_http(live, new.id)
        assert report.verified, failing(report)
        assert not over_http(live, old_id).verified               # signed with the withdrawn key
    assert award(live, alex).superseded_by and award(live, award(live, alex).superseded_by).credential_jwt
    assert award(live, revoked).state == "revoked" and award(live, revoked).superseded_by is None

    with sessions(live)() as session:
        new_ids = {award(live, alex).superseded_by, award(live, sam).superseded_by}
        mails = session.scalars(select(OutboxMessage).where(OutboxMessage.award_id.in_(new_ids))).all()
        assert len(mails) == 2 and all(m.key.startswith("renewed:") for m in mails)
        assert {m.to_address for m in mails} == {"alex@example.com", "sam@example.com"}
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "keys-revoke")).one()
        assert audit.details["key"] == f"{did}#key-1" and audit.details["reason"] == "laptop stolen"
        reissues = session.scalars(select(AuditEntry).where(AuditEntry.action == "reissue")).all()
        assert {r.award_id for r in reissues} == {alex, sam}
        for status_list in session.scalars(select(StatusList)):   # re-signed with the current key
            assert json.loads(status_list.credential)["proof"]["verificationMethod"] == f"{did}#key-2"

    # running it again changes nothing and re-issues nothing
    out = run("keys", "revoke", "key-1", "--compromised", "--reason", "laptop stolen").output
    assert "already withdrawn" in out and "0 badges re-issued" in out


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unknown_keys_and_the_current_key_are_refused(live):
    result = run("keys", "revoke", "key-9", "--compromised", "--reason", "x", code=2)
    assert "no key 'key-9'" in result.output and "key-1" in result.output
    result = run("keys", "revoke", "key-1", "--compromised", "--reason", "x", code=2)
    assert result.output.startswith("error: key-1 is the current signing key and the only one: rotate first")
    with sessions(live).begin() as session:
        issuer = load_issuer(session, settings_of(live))
        with pytest.raises(KeyringError, match="reason is required"):
            withdraw_key(session, settings_of(live), issuer, "key-1", reason=" ", actor="test")
    assert keys_by_id(live)["key-1"].state == "current"


# ------------------------------------------------------------------ console

@pytest.fixture()
def console(db_url, tmp_path):
    app = console_app(tmp_path, db_url)
    add_staff(app, "ada", "admin")
    add_staff(app, "hana", "issuer")
    yield app
    app.extensions["microcred"].engine.dispose()


def test_the_console_withdraws_a_key_for_admins_only(console):
    first = issue(console, "alex@example.com")
    hana = Console(console).login("hana")
    assert hana.get("/admin/keys/key-1/revoke").status_code == 403
    assert hana.post("/admin/keys/key-1/revoke", {"confirm": "yes", "reason": "x"}).status_code == 403

    ada = Console(console).login("ada")
    page = page_text(ada.get("/admin/keys/key-1/revoke"))
    assert "is the current signing key. Rotate first" in page
    ada.post("/admin/keys/rotate", {"confirm": "yes"}, token_from="/admin/keys")
    assert "Withdraw (compromised)" in page_text(ada.get("/admin/keys"))
    page = page_text(ada.get("/admin/keys/key-1/revoke"))
    assert "1 active badge" in page and "cannot be undone" in page

    response = ada.post("/admin/keys/key-1/revoke", {"reason": "laptop stolen"}, token_from="/admin/keys/key-1/revoke")
    assert response.status_code == 303 and keys_by_id(console)["key-1"].state == "retired"   # not confirmed
    assert console.test_client().post("/admin/keys/key-1/revoke",
                                      data={"confirm": "yes", "reason": "x"}).status_code in (400, 401, 403)
    response = ada.post("/admin/keys/key-1/revoke", {"confirm": "yes", "reason": "laptop stolen"},
                        token_from="/admin/keys/key-1/revoke", follow_redirects=True)
    text = page_text(response)
    assert "1 badge re-issued" in text and "withdrawn" in text
    assert keys_by_id(console)["key-1"].state == "withdrawn"
    assert award(console, first).state == "superseded"
    did = sessions_did(console)
    assert [m["id"] for m in did["verificationMethod"]] == ["did:web:hr.example.com#key-2"]
    with sessions(console)() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "keys-revoke")).one()
        assert entry.actor == "staff:ada"
    response = ada.post("/admin/keys/key-2/revoke", {"confirm": "yes", "reason": "x"},
                        token_from="/admin/keys", follow_redirects=True)
    assert "rotate first" in page_text(response) and keys_by_id(console)["key-2"].state == "current"
    assert ada.get("/admin/keys/key-7/revoke").status_code == 404
