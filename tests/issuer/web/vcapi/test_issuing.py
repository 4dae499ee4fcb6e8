"""VC-API issuing is accountable (issue 12 §3), on SQLite and PostgreSQL, through the Flask test
client and over real HTTP on loopback: off by default, its own token scope, every credential
recorded with the token that asked, the issuer's id and status entries, revocation that the
verifier sees, the refusals, the listing (API and console), and the did:key suite mode.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from issuer.awards import vcapi_service
from issuer.awards.allocation import allocation_rows
from issuer.awards.lifecycle import LifecycleError
from issuer.db.models import StatusAllocation, VcapiCredential
from issuer.web.vcapi import VC_V1, VC_V2
from tests.admin_support import Console, add_staff, page_text
from tests.issuer.web.api.test_api import Live, auth, build_app, make_settings, seed_issuer, serve
from tests.issuer.web.vcapi.test_vcapi import make_vcapi_tokens

SUBJECT = {"id": "did:example:alice", "name": "Alice"}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _now(**delta) -> str:
    return _stamp(datetime.now(UTC) + timedelta(**delta))


class Issuing:
    """An app (issuing on unless told otherwise), its tokens, and a poster over the chosen transport."""

    def __init__(self, app, tokens, live: Live | None):
        self.app, self.tokens, self.live = app, tokens, live
        self.did = app.extensions["microcred"].settings.did

    def post(self, path: str, body, token: str | None = "vcapi-issue"):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {self.tokens.get(token, token)}"
        if self.live is None:
            response = self.app.test_client().post(path, data=json.dumps(body), headers=headers)
            return response.status_code, response.mimetype, response.get_json(silent=True)
        status, response_headers, payload = self.live.request("POST", path, json.dumps(body).encode(), headers)
        return status, response_headers["content-type"].split(";")[0], json.loads(payload or b"null")

    def issue(self, credential: dict, token: str | None = "vcapi-issue"):
        return self.post("/credentials/issue", {"credential": credential, "options": {}}, token)

    def credential(self, **changes) -> dict:
        credential = {"@context": [VC_V2], "type": ["VerifiableCredential"], "issuer": self.did,
                      "validFrom": _now(), "credentialSubject": dict(SUBJECT)}
        credential.update(changes)
        return {k: v for k, v in credential.items() if v is not None}


@pytest.fixture(params=["client", "http"])
def issuing(request, db_url, tmp_path):
    app = build_app(make_settings(tmp_path, db_url), VCAPI_ISSUING=True, VCAPI_OFFLINE=True)
    seed_issuer(app)
    tokens = make_vcapi_tokens(app)
    server = serve(app) if request.param == "http" else None
    try:
        yield Issuing(app, tokens, Live(app, server.server_port) if server else None)
    finally:
        if server:
            server.shutdown()
            server.server_close()
        app.extensions["microcred"].engine.dispose()


def _count(app, model) -> int:
    with app.extensions["microcred"].sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- off by default, scope

@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_issuing_is_off_by_default(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("MICROCRED_VCAPI_ISSUING", raising=False)
    app = build_app(make_settings(tmp_path, db_url))
    try:
        seed_issuer(app)
        tokens = make_vcapi_tokens(app)
        assert app.config["VCAPI_ISSUING"] is False
        off = Issuing(app, tokens, None)
        for token in ("vcapi-issue", "admin", None):
            status, mimetype, body = off.issue(off.credential(), token)
            assert (status, mimetype) == (403, "application/problem+json")
            assert "MICROCRED_VCAPI_ISSUING=1" in body["detail"] and "vcapi-issue" in body["detail"]
        assert _count(app, VcapiCredential) == 0
    finally:
        app.extensions["microcred"].engine.dispose()
    monkeypatch.setenv("MICROCRED_VCAPI_ISSUING", "1")
    app = build_app(make_settings(tmp_path, db_url))
    try:
        assert app.config["VCAPI_ISSUING"] is True
    finally:
        app.extensions["microcred"].engine.dispose()


def test_issuing_needs_the_vcapi_issue_scope(issuing):
    for token in ("read", "issue", "admin"):
        status, mimetype, body = issuing.issue(issuing.credential(), token)
        assert (status, mimetype) == (403, "application/problem+json") and "vcapi-issue" in body["detail"]
    assert issuing.issue(issuing.credential(), None)[0] == 401
    assert issuing.issue(issuing.credential())[0] == 201
    assert _count(issuing.app, VcapiCredential) == 1


# --------------------------------------------------------------------------- recorded, id, status, revocation

def test_each_credential_is_recorded_with_the_issuers_id_and_status_entries(issuing):
    status, _mimetype, body = issuing.issue(issuing.credential())
    assert status == 201, body
    signed = body["verifiableCredential"]
    base = issuing.app.extensions["microcred"].settings.base_url
    assert signed["id"].startswith(f"{base}/credentials/")
    record_id = signed["id"].rsplit("/", 1)[1]
    entries = signed["credentialStatus"]
    assert sorted(e["statusPurpose"] for e in entries) == ["revocation", "suspension"]
    for entry in entries:
        assert entry["type"] == "BitstringStatusListEntry"
        assert entry["statusListCredential"] == f"{base}/status/{entry['statusPurpose']}/1"
    with issuing.app.extensions["microcred"].sessions() as session:
        record = session.get(VcapiCredential, record_id)
        assert record.credential_id == signed["id"] and json.loads(record.credential) == signed
        assert record.actor.startswith("api:") and "test vcapi-issue" in record.actor and record.token_id
        assert record.signed_as == issuing.did and record.state == "active"
        indexes = session.scalars(select(StatusAllocation.index)
                                  .where(StatusAllocation.vcapi_credential_id == record_id)).all()
    assert sorted(indexes) == sorted(int(e["statusListIndex"]) for e in entries)
    # listed in the API with who asked
    client = issuing.app.test_client()
    listing = client.get("/api/v1/vcapi-credentials", headers=auth(issuing.tokens["read"])).get_json()
    item = listing["items"][0]
    assert item["id"] == record_id and item["credential_id"] == signed["id"] and item["credential"] == signed
    assert item["actor"] == record.actor and item["state"] == "active"
    assert sorted(s["purpose"] for s in item["status"]) == ["revocation", "suspension"]
    assert client.get("/api/v1/vcapi-credentials").status_code == 401


def test_a_revoked_credential_is_reported_revoked_by_the_verifier(issuing):
    signed = issuing.issue(issuing.credential())[2]["verifiableCredential"]
    verify = {"verifiableCredential": signed, "options": {}}
    status, _mimetype, result = issuing.post("/credentials/verify", verify, "read")
    assert status == 200 and result["verified"] is True, result
    record_id = signed["id"].rsplit("/", 1)[1]
    state = issuing.app.extensions["microcred"]
    add_staff(issuing.app, "hana", "issuer")
    hr = Console(issuing.app).login("hana")
    page = hr.get("/admin/vcapi-credentials")
    assert page.status_code == 200 and signed["id"] in page_text(page) and "test vcapi-issue" in page_text(page)
    response = hr.post(f"/admin/vcapi-credentials/{record_id}/suspend", {"reason": "checking"},
                       token_from="/admin/vcapi-credentials")
    assert response.status_code == 303
    status, _mimetype, result = issuing.post("/credentials/verify", verify, "read")
    assert status == 422 and result["verified"] is False and "suspend" in json.dumps(result["errors"]).lower()
    assert state.use.status.change_vcapi_status(record_id, "unsuspend", {"reason": "checked"}, actor="test").changed
    assert issuing.post("/credentials/verify", verify, "read")[0] == 200
    refused = hr.post(f"/admin/vcapi-credentials/{record_id}/revoke", {"reason": "  "},
                      token_from="/admin/vcapi-credentials")
    assert refused.status_code == 303
    assert "A reason is required (it is kept in the audit log)." in page_text(hr.get("/admin/vcapi-credentials"))
    assert issuing.post("/credentials/verify", verify, "read")[0] == 200          # nothing changed
    unknown = hr.post("/admin/vcapi-credentials/00000000-0000-4000-8000-000000000000/revoke", {"reason": "x"},
                      token_from="/admin/vcapi-credentials")
    assert unknown.status_code == 404
    response = hr.post(f"/admin/vcapi-credentials/{record_id}/revoke", {"reason": "issued by mistake"},
                       token_from="/admin/vcapi-credentials")
    assert response.status_code == 303
    status, _mimetype, result = issuing.post("/credentials/verify", verify, "read")
    assert status == 422 and result["verified"] is False and "revoked" in json.dumps(result["errors"]).lower()
    listing = issuing.app.test_client().get("/api/v1/vcapi-credentials?state=revoked",
                                            headers=auth(issuing.tokens["read"])).get_json()
    assert [i["id"] for i in listing["items"]] == [record_id] and listing["items"][0]["state_reason"]


def test_the_rest_api_revokes_suspends_and_unsuspends_a_vcapi_credential(issuing):
    """POST /api/v1/vcapi-credentials/{id}/revoke|suspend|unsuspend: the awards' status change, over HTTP."""
    signed = issuing.issue(issuing.credential())[2]["verifiableCredential"]
    record_id = signed["id"].rsplit("/", 1)[1]
    verify = {"verifiableCredential": signed, "options": {}}
    path = f"/api/v1/vcapi-credentials/{record_id}"
    assert issuing.post(f"{path}/suspend", {"reason": "checking"}, "read")[0] == 403       # needs 'issue'
    status, _mimetype, body = issuing.post(f"{path}/suspend", {}, "issue")
    assert status == 422 and body["code"] == "reason_required"
    assert issuing.post("/credentials/verify", verify, "read")[0] == 200                  # nothing changed
    status, _mimetype, body = issuing.post(f"{path}/suspend", {"reason": "checking"}, "issue")
    assert (status, body) == (200, {"id": record_id, "action": "suspend", "state": "suspended", "changed": True})
    assert issuing.post("/credentials/verify", verify, "read")[0] == 422
    assert issuing.post(f"{path}/unsuspend", {"reason": "checked"}, "issue")[2]["state"] == "active"
    assert issuing.post("/credentials/verify", verify, "read")[0] == 200
    assert issuing.post(f"{path}/revoke", {"reason": "issued by mistake"}, "issue")[2]["state"] == "revoked"
    status, _mimetype, result = issuing.post("/credentials/verify", verify, "read")
    assert status == 422 and "revoked" in json.dumps(result["errors"]).lower()
    status, _mimetype, body = issuing.post(f"{path}/unsuspend", {"reason": "undo"}, "issue")
    assert status == 409 and body["code"] == "invalid_transition"                        # revoked is for good
    unknown = "/api/v1/vcapi-credentials/00000000-0000-4000-8000-000000000000/revoke"
    assert issuing.post(unknown, {"reason": "x"}, "issue")[0] == 404


@pytest.fixture()
def issuing_client(db_url, tmp_path):
    """Issuing on, through the Flask test client only."""
    app = build_app(make_settings(tmp_path, db_url), VCAPI_ISSUING=True, VCAPI_OFFLINE=True)
    seed_issuer(app)
    try:
        yield Issuing(app, make_vcapi_tokens(app), None)
    finally:
        app.extensions["microcred"].engine.dispose()


def test_an_index_taken_meanwhile_is_forgotten_and_the_credential_signed_again(issuing_client, monkeypatch):
    """The status indexes come from the app's StatusIndexes; when storing them fails (a concurrent issuer
    took one first: here the same rows twice), the slots are forgotten and the credential planned again."""
    issuing = issuing_client
    stored = []

    def rows_once_twice(slots, **owner):
        rows = allocation_rows(slots, **owner)
        stored.append(rows)
        return rows * 2 if len(stored) == 1 else rows          # the first INSERT violates the primary key

    monkeypatch.setattr(vcapi_service, "allocation_rows", rows_once_twice)
    status, _mimetype, body = issuing.issue(issuing.credential())
    assert status == 201, body
    assert len(stored) == 2
    signed = body["verifiableCredential"]
    record_id = signed["id"].rsplit("/", 1)[1]
    with issuing.app.extensions["microcred"].sessions() as session:
        indexes = sorted(session.scalars(select(StatusAllocation.index)
                                         .where(StatusAllocation.vcapi_credential_id == record_id)).all())
        assert session.scalar(select(func.count()).select_from(VcapiCredential)) == 1
    assert indexes == sorted(int(e["statusListIndex"]) for e in signed["credentialStatus"])
    assert indexes == sorted(row["index"] for row in stored[1])
    assert not any(issuing.app.extensions["microcred"].use.indexes._reserved.values())    # nothing left reserved
    verify = {"verifiableCredential": signed, "options": {}}
    assert issuing.post("/credentials/verify", verify, "read")[0] == 200


# --------------------------------------------------------------------------- refusals

def test_what_vcapi_issuing_refuses(issuing):
    first = issuing.issue(issuing.credential())[2]["verifiableCredential"]
    award = issuing.app.test_client().post("/api/v1/awards", json={"achievement": "teamwork",
                                                                   "email": "a@example.com"},
                                           headers=auth(issuing.tokens["issue"])).get_json()
    base = issuing.app.extensions["microcred"].settings.base_url
    foreign = {"id": "https://lists.example/status/1#7", "type": "BitstringStatusListEntry",
               "statusPurpose": "revocation", "statusListIndex": "7",
               "statusListCredential": "https://lists.example/status/1"}
    own = {**foreign, "id": f"{base}/status/revocation/1#7", "statusListCredential": f"{base}/status/revocation/1"}
    cases = {
        "id of a VC-API credential": (issuing.credential(id=first["id"]), "already the id"),
        "id of an award": (issuing.credential(id=award["credential_url"] if "credential_url" in award
                                              else f"{base}/credentials/{award['id']}"), "already the id"),
        "an id of its own": (issuing.credential(id="urn:uuid:5a2c4f1e-7a55-4c8e-9f0e-0d9c1c1a2b3c"),
                             "leave 'id' out"),
        "bitstring status list": (issuing.credential(type=["VerifiableCredential", "BitstringStatusListCredential"]),
                                  "status list"),
        "status list 2021": (issuing.credential(type=["VerifiableCredential", "StatusList2021Credential"]),
                             "status list"),
        "backdated": (issuing.credential(validFrom=_now(days=-3)), "backdated"),
        "post-dated": (issuing.credential(validFrom=_now(hours=2)), "backdated"),
        "foreign status list": (issuing.credential(credentialStatus=foreign), "not this issuer's"),
        "the issuer's own list": (issuing.credential(credentialStatus=own), "this issuer's status lists"),
        "vc 1.1": ({"@context": [VC_V1], "type": ["VerifiableCredential"], "issuer": issuing.did,
                    "issuanceDate": _now(), "credentialSubject": {"id": "did:example:alice"}}, "VC 2.0"),
    }
    before = _count(issuing.app, VcapiCredential), _count(issuing.app, StatusAllocation)
    for name, (credential, words) in cases.items():
        status, mimetype, body = issuing.issue(credential)
        assert (status, mimetype) == (422, "application/problem+json"), (name, body)
        assert words in json.dumps(body), (name, body)
    assert (_count(issuing.app, VcapiCredential), _count(issuing.app, StatusAllocation)) == before
    # within the skew is fine; no validFrom at all is fine
    assert issuing.issue(issuing.credential(validFrom=_now(minutes=-2)))[0] == 201
    assert issuing.issue(issuing.credential(validFrom=None))[0] == 201


# --------------------------------------------------------------------------- did:key suite mode

def test_the_did_key_suite_mode_still_issues_what_the_suites_send_and_records_it(issuing):
    issuing.app.config["VCAPI_ISSUER"] = "did:key"
    from issuer.identity import load_issuer
    from issuer.keys.keyring import current_key
    state = issuing.app.extensions["microcred"]
    with state.sessions() as session:
        _row, pair = current_key(session, state.settings, load_issuer(session, state.settings))
    did = pair.public.to_did_key()
    credential = {"@context": [VC_V2], "id": "http://university.example/credentials/1872",
                  "type": ["VerifiableCredential"], "issuer": did, "validFrom": "2023-02-23T21:41:38Z",
                  "credentialSubject": dict(SUBJECT)}
    for _ in range(2):       # the suites send the same fixed credentials again and again
        status, _mimetype, body = issuing.issue(credential)
        assert status == 201, body
        signed = body["verifiableCredential"]
        assert {k: v for k, v in signed.items() if k != "proof"} == credential
    v1 = {"@context": [VC_V1], "type": ["VerifiableCredential"], "issuer": did,
          "issuanceDate": "2010-01-01T19:23:24Z", "credentialSubject": {"id": "did:example:alice"}}
    assert issuing.issue(v1)[0] == 201
    status, _mimetype, body = issuing.issue({**credential, "type": ["VerifiableCredential",
                                                                   "BitstringStatusListCredential"]})
    assert status == 422 and "status list" in body["detail"]
    with state.sessions() as session:
        records = session.scalars(select(VcapiCredential)).all()
        assert len(records) == 3 and all(r.signed_as == did and r.actor.startswith("api:") for r in records)
        assert session.scalar(select(func.count()).select_from(StatusAllocation)
                              .where(StatusAllocation.vcapi_credential_id.is_not(None))) == 0
    record_id = records[0].id
    with pytest.raises(LifecycleError, match="no status entries") as refused:
        state.use.status.change_vcapi_status(record_id, "revoke", {"reason": "x"}, actor="test")
    assert (refused.value.code, refused.value.http_status) == ("no_status_entry", 409)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_listing_pages_with_a_cursor(issuing):
    for _ in range(3):
        assert issuing.issue(issuing.credential())[0] == 201
    client = issuing.app.test_client()
    seen, url = [], "/api/v1/vcapi-credentials?limit=2"
    while url:
        response = client.get(url, headers=auth(issuing.tokens["read"]))
        assert response.status_code == 200
        page = response.get_json()
        seen += [item["id"] for item in page["items"]]
        url = f"/api/v1/vcapi-credentials?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else None
    assert len(seen) == len(set(seen)) == 3
    response = client.get("/api/v1/vcapi-credentials?state=lost", headers=auth(issuing.tokens["read"]))
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
