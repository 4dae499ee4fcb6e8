"""Export and erasure of a person, end to end, on SQLite and PostgreSQL.

A real issuer with the demo data; Pat Doe has badges (one with a VC-JWT and evidence naming
them, one suspended, one renewed), a published profile with their name, delivered emails (``.eml``
files) and a bulk upload naming them; Sam Other has a badge too. The export must hold all of
Pat's record and nothing of Sam's; the erasure must revoke Pat's badges on the published status
list (checked with the real verifier against what the issuer serves), leave no trace of Pat in
any row of any table nor in the mail folder, answer 410 "withdrawn" on their badge URLs, keep one
audit line for the erasure, change nothing when repeated, and leave Sam's record as it was. A
failure in the middle (the signing key gone, so the status list cannot be re-signed) leaves
everything as it was, mail files included.
"""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError

from issuer.awards.status_lists import bit
from issuer.db.models import AuditEntry, Award, OutboxMessage, Recipient, StatusAllocation, StatusList, VcapiCredential
from issuer.db.models_employee import AwardPrivacy
from issuer.errors import InvalidInput, IssuerError
from tests.admin_support import console_app, page_text
from tests.issuer.personal_data.people_support import (
    PAT,
    PAT_EMPLOYEE,
    PAT_NAME,
    PAT_TRACES,
    SAM,
    SAM_NAME,
    dump,
    files_naming,
    other,
    person,
    services,
)
from tests.issuer.web.test_sharing import HTML, issuer_documents
from verifier import verify_credential

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture()
def app(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("MICROCRED_SMTP_HOST", raising=False)      # emails become .eml files in the instance folder
    app = console_app(tmp_path, db_url, demo=True)
    yield app
    app.extensions["microcred"].engine.dispose()


def status_reason(app, credential_text: str) -> str | None:
    """What a verifier concludes about the credential's status now: None (passed), or the reason it failed."""
    report = verify_credential(json.loads(credential_text), offline=True, documents=issuer_documents(app))
    [status] = [c for c in report.checks if c.check == "status"]
    return None if status.status == "passed" else status.reason


def without_time(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "exported_at"}


def upload_bulk(app) -> None:
    csv = (f"email,name,achievement\n{PAT},{PAT_NAME},conflict-resolution\n{SAM},{SAM_NAME},conflict-resolution\n"
           "robin@example.com,Robin Quinn,conflict-resolution\n").encode()
    services(app).bulk.upload(csv, filename="spring.csv", actor="staff:hana")


# ------------------------------------------------------------------ export

def test_the_export_holds_the_whole_record_and_nothing_of_anyone_else(app):
    pat, sam = person(app), other(app)
    upload_bulk(app)
    document = services(app).people.export("  Pat.Doe@Example.com ")     # as typed: normalized
    assert document["format"] == "microcred-personal-data/1" and document["email"] == PAT
    [recipient] = document["recipients"]
    assert (recipient["name"], recipient["employee_id"], recipient["did"]) == (PAT_NAME, PAT_EMPLOYEE, "did:example:pat")
    assert recipient["profile"] == {"published": True, "url": "https://hr.example.com/profiles/pat-profile",
                                    "show_name": True}
    assert recipient["issuer"]["name"] and recipient["issuer"]["did"] == "did:web:hr.example.com"
    awards = {a["id"]: a for a in document["awards"]}
    assert list(awards) == pat.awards
    first, second, renewed = (awards[i] for i in pat.awards)
    assert (first["state"], second["state"], renewed["state"]) == ("superseded", "suspended", "active")
    for award_id, award in awards.items():                      # the signed credential as issued (parsed)
        assert award["credential"] == json.loads(pat.texts[award_id])
        assert award["url"] == f"https://hr.example.com/credentials/{award_id}"
    with app.extensions["microcred"].sessions() as session:
        stored_jwt = session.get(Award, pat.awards[0]).credential_jwt
    assert stored_jwt and first["credential_jwt"] == stored_jwt
    assert first["evidence"] == [{"narrative": "Pat Doe led the payroll audit."}]
    assert second["state_reason"] == "Pat Doe asked to check the results"
    kinds = sorted((m["kind"], m["state"]) for m in document["messages"])
    assert kinds == [("Badge awarded", "sent"), ("Badge awarded", "sent"), ("Badge renewed", "sent"),
                     ("Suspension notice", "sent")]                  # each kind in plain words
    assert all(m["html"] and "<html" in m["html"] for m in document["messages"])
    assert all(m["to_address"] == PAT and m["body"] and m["subject"] for m in document["messages"])
    actions = [(e["action"], e["award_id"]) for e in document["audit"]]
    assert ("issue", pat.awards[0]) in actions and ("suspend", pat.awards[1]) in actions
    assert ("renew", pat.awards[0]) in actions and ("profile_publish", None) in actions
    [upload] = document["bulk_uploads"]
    assert upload["filename"] == "spring.csv"
    assert upload["rows"] == [{"email": PAT, "name": PAT_NAME, "achievement": "conflict-resolution"}]
    text = json.dumps(document).lower()
    assert SAM not in text and SAM_NAME.lower() not in text and "robin" not in text
    assert sam.awards[0] not in text
    # nothing is held about an unknown address: empty lists, the same shape
    empty = services(app).people.export("nobody@example.com")
    assert [empty[k] for k in ("recipients", "awards", "messages", "audit", "bulk_uploads")] == [[]] * 5
    with pytest.raises(InvalidInput):
        services(app).people.export("not an address")


# ------------------------------------------------------------------ erasure

def test_erasure_revokes_then_removes_every_trace_and_keeps_one_audit_line(app):
    pat, sam = person(app), other(app)
    upload_bulk(app)
    sam_before = without_time(services(app).people.export(SAM))
    assert files_naming(app, PAT) and files_naming(app, SAM)
    assert all(status_reason(app, pat.texts[a]) in (None, "suspended") for a in pat.awards)
    assert PAT in dump(app) and PAT_NAME.lower() in dump(app)           # the dump sees them before

    erasure = services(app).people.erase(PAT, actor="staff:root")

    erased = erasure.erased
    assert (erased.recipients, erased.awards, erased.messages, erased.bulk_uploads) == (1, 3, 4, 1)
    assert erased.revoked == 3 and erasure.files_deleted == 4 and erasure.files_left == 0
    # revoked on the published status list: any verifier holding a copy sees it
    for award_id in pat.awards:
        assert status_reason(app, pat.texts[award_id]) == "revoked", award_id
    # nothing of Pat anywhere: every row of every table, and the mail folder
    rows = dump(app)
    for trace in PAT_TRACES + ("payroll audit", "asked to check"):
        assert trace not in rows, trace
    assert files_naming(app, PAT) == [] and files_naming(app, PAT_NAME) == []
    with app.extensions["microcred"].sessions() as session:
        [recipient] = session.scalars(select(Recipient).where(Recipient.email.startswith("erased:")))
        assert re.fullmatch(r"erased:[0-9a-f-]{36}", recipient.email)
        assert (recipient.name, recipient.employee_id, recipient.did, recipient.public_profile_slug,
                recipient.show_name) == (None, None, None, None, False)
        for award_id in pat.awards:
            award = session.get(Award, award_id)
            assert (award.state, award.credential, award.credential_jwt, award.evidence, award.results) == \
                ("revoked", "", None, [], [])
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.award_id.in_(pat.awards))).all() == []
        erasures = session.scalars(select(AuditEntry).where(AuditEntry.action == "erase_person")).all()
        [entry] = erasures
        assert entry.actor == "staff:root" and entry.award_id is None
        assert entry.details == {"recipients": 1, "awards": 3, "revoked": 3, "messages": 4, "bulk_uploads": 1,
                                 "vcapi_credentials": 0, "sign_ins": 0, "privacy": 3}   # the profile's name choices
        assert session.scalars(select(AwardPrivacy).where(AwardPrivacy.award_id.in_(pat.awards))).all() == []
        about = session.scalars(select(AuditEntry).where(AuditEntry.award_id.in_(pat.awards))).all()
        assert about and all(e.details.get("erased") is True and "reason" not in e.details for e in about)
    # the bulk upload keeps the other rows
    [job] = services(app).bulk.recent()
    source = services(app).bulk.job(job["id"]).source.decode()
    assert PAT not in source and SAM in source and "robin@example.com" in source
    # the public pages say "withdrawn", nothing else; JSON gets 410 Gone
    client = app.test_client()
    for award_id in pat.awards:
        page = client.get(f"/credentials/{award_id}", headers=HTML)
        assert page.status_code == 410 and "This badge was withdrawn" in page_text(page)
        for trace in (PAT_NAME, "Team Leadership", "payroll"):
            assert trace not in page.get_data(as_text=True)
        gone = client.get(f"/credentials/{award_id}", headers={"Accept": "application/vc+ld+json"})
        assert gone.status_code == 410 and gone.json["code"] == "withdrawn"
        for suffix in (".jwt", "/badge.png", "/badge.svg", "/credential.json", "/qr.svg", "/image.png"):
            assert client.get(f"/credentials/{award_id}{suffix}").status_code == 410, suffix
    assert client.get("/profiles/pat-profile", headers=HTML).status_code == 404
    # repeated: harmless, nothing changes, no second audit line
    before = dump(app)
    again = services(app).people.erase(PAT, actor="staff:root")
    assert again.nothing and dump(app) == before
    # Sam's record is untouched and still verifies
    assert without_time(services(app).people.export(SAM)) == sam_before
    assert status_reason(app, sam.texts[sam.awards[0]]) is None
    assert len(files_naming(app, SAM)) == 1


REFUSE = {   # a trigger that refuses any change to a recipient: the database itself fails the transaction
    "sqlite": ["CREATE TRIGGER refuse BEFORE UPDATE ON recipients BEGIN SELECT RAISE(ABORT, 'refused'); END"],
    "postgresql": ["CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ "
                   "LANGUAGE plpgsql",
                   "CREATE TRIGGER refuse BEFORE UPDATE ON recipients FOR EACH ROW EXECUTE FUNCTION refuse()"],
}


def test_a_failure_in_the_middle_changes_nothing_and_puts_the_mail_files_back(app):
    pat = person(app)
    files_before = sorted(p.name for p in files_naming(app, PAT))
    rows_before = dump(app)
    engine = app.extensions["microcred"].engine
    with engine.begin() as connection:
        for statement in REFUSE[engine.dialect.name]:
            connection.execute(text(statement))
    with pytest.raises(DBAPIError):            # after the awards were revoked, before the recipient was scrubbed
        services(app).people.erase(PAT, actor="staff:root")
    assert dump(app) == rows_before            # status lists, awards, outbox, audit: as they were
    for award_id in pat.awards:
        assert status_reason(app, pat.texts[award_id]) != "revoked"
    assert sorted(p.name for p in files_naming(app, PAT)) == files_before
    assert not [p for p in files_naming(app, "") if p.name.startswith(".erasing-")]
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER refuse" + (" ON recipients" if engine.dialect.name != "sqlite" else "")))
    assert services(app).people.erase(PAT, actor="staff:root").erased.awards == len(pat.awards)


def test_an_erased_person_is_sent_no_revocation_notice_not_even_queued_for_a_moment(app):
    person(app)                                 # Pat has active, suspended, superseded badges: revoking notifies
    sam = other(app)
    engine = app.extensions["microcred"].engine
    inserts: list[str] = []

    def spy(_connection, _cursor, statement, *_args) -> None:
        if " ".join(statement.split()).upper().startswith("INSERT INTO OUTBOX_MESSAGES"):
            inserts.append(statement)
    event.listen(engine, "before_cursor_execute", spy)
    try:
        erasure = services(app).people.erase(PAT, actor="staff:root")
        assert erasure.erased.revoked == 3 and inserts == []        # revoked, and no email row was ever written
        # the same revocation by HR does notify: the spy sees such a row when there is one
        services(app).status.change_status(sam.awards[0], "revoke", {"reason": "left"}, actor="staff:hana")
        assert len(inserts) == 1
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    with app.extensions["microcred"].sessions() as session:
        notices = session.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == "revoked")).all()
    assert notices == [SAM]
    assert services(app).mail.deliver_pending().sent == 1 and files_naming(app, PAT) == []


@SQLITE_ONLY
def test_a_mail_file_that_cannot_be_deleted_now_is_deleted_by_the_next_run(app):
    person(app)
    folder = app.extensions["microcred"].settings.instance / "outbox-mail"
    stuck = folder / ".erasing-left-from-a-crash.eml"
    stuck.write_text(f"To: {PAT}\n\nleft behind\n")
    blocked = folder / ".erasing-blocked.eml"           # a directory: deleting it as a file fails (OSError)
    blocked.mkdir()
    (blocked / "inside").write_text("x")
    erasure = services(app).people.erase(PAT, actor="staff:root")
    assert not stuck.exists() and files_naming(app, PAT) == []   # swept before, Pat's own after the commit
    assert (erasure.files_deleted, erasure.files_left) == (4, 1)
    assert erasure.erased.awards == 3                             # a file problem does not undo the erasure


@SQLITE_ONLY
def test_erasure_waits_for_a_running_bulk_upload_that_names_the_person(app):
    person(app)
    upload_bulk(app)
    [job] = services(app).bulk.recent()
    with app.extensions["microcred"].sessions.begin() as session:
        services(app).bulk.job(job["id"])                      # exists
        session.execute(text("UPDATE bulk_jobs SET state = 'running'"))
    with pytest.raises(IssuerError) as refused:
        services(app).people.erase(PAT, actor="staff:root")
    assert refused.value.code == "bulk_job_running"
    assert PAT in dump(app)


def test_a_credential_signed_through_the_vc_api_that_names_the_person_is_exported_then_revoked_and_blanked(app):
    use = services(app)
    did = use.public.did_document()["id"]
    subject = {"id": f"mailto:{PAT}", "name": PAT_NAME}
    signed = use.vcapi.issue({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                              "issuer": did, "credentialSubject": subject}, suite_mode=False, token_id=None,
                             actor="api:token-1")
    other(app)
    [exported] = use.people.export(PAT)["vcapi_credentials"]
    assert exported["credential"] == signed and exported["state"] == "active"
    erasure = use.people.erase(PAT, actor="staff:root")
    assert (erasure.erased.vcapi, erasure.erased.revoked) == (1, 1)
    with app.extensions["microcred"].sessions() as session:
        record = session.get(VcapiCredential, exported["id"])
        assert (record.state, record.credential, record.state_reason) == ("revoked", "{}", "personal data erased")
        [(status_list, index)] = session.execute(
            select(StatusList, StatusAllocation.index).join(StatusAllocation, StatusAllocation.list_id == StatusList.id)
            .where(StatusAllocation.vcapi_credential_id == record.id, StatusList.purpose == "revocation")).all()
        assert bit(status_list, index) is True                  # revoked on the published list
    rows = dump(app)
    assert PAT not in rows and PAT_NAME.lower() not in rows


@SQLITE_ONLY
def test_an_address_that_only_contains_theirs_is_left_alone(app):
    person(app)
    near = ("xpat.doe@example.com", "pat.doe@example.com.au")
    csv = "email,name,achievement\n" + "".join(f"{e},Someone Else,conflict-resolution\n" for e in (PAT, *near))
    services(app).bulk.upload(csv.encode(), filename="near.csv", actor="staff:hana")
    issue_to = services(app).awards.issue({"achievement": "team-leadership", "email": near[0]}, actor="staff:hana")
    [upload] = services(app).people.export(PAT)["bulk_uploads"]
    assert [row["email"] for row in upload["rows"]] == [PAT]
    services(app).people.erase(PAT, actor="staff:root")
    [job] = services(app).bulk.recent()
    stored = services(app).bulk.job(job["id"])
    assert [line.split(",")[0] for line in stored.source.decode().splitlines()] == ["email", *near]
    table = json.dumps(stored.summary)
    assert all(e in table for e in near) and f'"{PAT}"' not in table
    assert services(app).people.export(near[0])["awards"][0]["id"] == issue_to.award.id
