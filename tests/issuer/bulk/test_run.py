"""Bulk issuance from CSV (issuer.bulk.reading and run, microcred issue-bulk) on real databases.

Tests taking ``db_engine`` / ``db_url`` run on SQLite and PostgreSQL (see tests/db_fixtures.py).
Files are small; the 10,000-row run is benchmarks/bench_bulk.py.
"""
from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from issuer.awards.allocation import StatusIndexes
from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award
from issuer.awards.status_lists import LIST_SIZE, ensure_lists, list_url
from issuer.bulk import reading
from issuer.bulk import run as bulk
from issuer.bulk.reading import COLUMNS, validate_csv
from issuer.bulk.run import issue_csv
from issuer.cli import main as cli_main
from issuer.cli.achievements import achievement_from_definition
from issuer.config import Settings, load_settings
from issuer.db.engine import make_engine, session_factory
from issuer.db.migrate import migrate
from issuer.db.models import (
    Achievement,
    AuditEntry,
    Award,
    Issuer,
    OutboxMessage,
    Recipient,
    StatusAllocation,
    StatusList,
    new_id,
)
from issuer.errors import Conflict, NotReady
from issuer.identity import did_document, did_document_url
from issuer.instance import open_instance
from issuer.keys.keyring import add_key, all_keys
from issuer.mail.outbox import attachment_for, build_message
from issuer.runtime import Runtime
from issuer.setup import init_instance
from verifier import verify_credential
from verifier.baked import extract_baked
from verifier.recipient import hashed_identity

BASE_URL = "https://hr.example.com"
RD = "urn:uuid:6f4c1d52-3b7e-4a8e-9d51-1c0f0b9e2a10"
HEADER = ["email", "name", "employee_id", "did", "achievement", "evidence_url", "evidence_narrative", "evidence_name",
          "result_description", "result_value", "awarded_date", "external_id"]


@dataclass
class Instance:
    settings: Settings
    sessions: sessionmaker[Session]
    issuer_id: str
    teamwork_id: str

    @property
    def runtime(self) -> Runtime:
        return Runtime(self.settings, self.sessions)

    def issuer(self, session: Session) -> Issuer:
        return session.get(Issuer, self.issuer_id)


def _settings(folder: Path, database_url: str) -> Settings:
    return load_settings(env={}, instance=folder, keys_dir=folder / "keys", base_url=BASE_URL,
                         database_url=database_url)


def _setup(sessions: sessionmaker[Session], settings: Settings, *, room: int | None = None) -> Instance:
    with sessions() as session, session.begin():
        issuer = Issuer(did=settings.did, base_url=settings.base_url, name="Example Corp HR")
        session.add(issuer)
        session.flush()
        add_key(session, settings, issuer)
        lists = ensure_lists(session, settings, issuer)
        teamwork = Achievement(issuer_id=issuer.id, slug="teamwork", name="Teamwork",
                               description="Works well in a team.", criteria_narrative="Assessed by the team lead.",
                               validity_months=24,
                               alignments=[{"targetName": "Teamwork", "targetType": "ceasn:Competency",
                                            "targetUrl": "https://example.com/skills/teamwork"}],
                               result_descriptions=[{"id": RD, "name": "Grade", "resultType": "LetterGrade",
                                                     "allowedValue": ["A", "B", "C"]}])
        session.add_all([teamwork, Achievement(issuer_id=issuer.id, slug="python-basics", name="Python Basics",
                                               description="Writes small Python programs.",
                                               criteria_url="https://example.com/criteria/python")])
        session.flush()
        if room is not None:   # lists almost full (3/4 of the indexes are used), to see them followed by new ones
            filler = Award(issuer_id=issuer.id, achievement_id=teamwork.id, recipient_id=_recipient(session, issuer.id),
                           external_key="scaffold-filler", awarded_at=datetime.now(UTC),
                           valid_from=datetime.now(UTC), credential="{}")
            session.add(filler)
            session.flush()
            for status_list in lists:
                taken = random.Random(status_list.id).sample(range(LIST_SIZE), LIST_SIZE * 3 // 4 - room)
                session.execute(insert(StatusAllocation), [{"list_id": status_list.id, "index": i,
                                                            "award_id": filler.id} for i in taken])
        return Instance(settings, sessions, issuer.id, teamwork.id)


def _recipient(session: Session, issuer_id: str) -> str:
    recipient = Recipient(issuer_id=issuer_id, email=f"other{new_id()[:8]}@example.com")
    session.add(recipient)
    session.flush()
    return recipient.id


@pytest.fixture
def inst(db_engine, tmp_path) -> Instance:
    url = db_engine.url.render_as_string(hide_password=False)
    return _setup(session_factory(db_engine), _settings(tmp_path, url))


@pytest.fixture
def sqlite_inst(tmp_path) -> Instance:
    engine = make_engine(f"sqlite:///{tmp_path / 'microcred.db'}")
    migrate(engine)
    yield _setup(session_factory(engine), _settings(tmp_path, str(engine.url)))
    engine.dispose()


def csv_text(rows: list[dict], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def people(start: int, count: int, **extra) -> list[dict]:
    return [{"email": f"person{n}@example.com", "name": f"Person {n}", "employee_id": f"E{n:04d}",
             "achievement": ("teamwork", "python-basics")[n % 2], **extra} for n in range(start, start + count)]


def write(tmp_path: Path, rows: list[dict], name: str = "awards.csv") -> Path:
    path = tmp_path / name
    path.write_text(csv_text(rows), encoding="utf-8")
    return path


def run(inst: Instance, path, **options):
    options.setdefault("workers", 0)
    return issue_csv(path, inst.runtime, actor="test", **options)


def counts(inst: Instance) -> dict:
    with inst.sessions() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model))
                for model in (Award, Recipient, StatusAllocation, AuditEntry)}


def documents(inst: Instance) -> dict:
    """The issuer's IssuerContext documents, plus every status list (also full ones)."""
    with inst.sessions() as session, session.begin():
        issuer = inst.issuer(session)
        docs = dict(IssuerContext.load(session, inst.settings, issuer).documents)
        docs[did_document_url(issuer)] = did_document(issuer, all_keys(session, issuer))
        for status_list in session.scalars(select(StatusList).where(StatusList.issuer_id == issuer.id)):
            docs[list_url(inst.settings, status_list)] = json.loads(status_list.credential)
    return docs


def check_store(inst: Instance, unowned: int = 0) -> list[Award]:
    """Every award is complete: a verifying credential and exactly 2 status allocations it names.

    Awards the tests add as scaffolding (external key "scaffold-...") are left out. ``unowned``: how
    many claimed indexes a killed run may have left without an owner (none otherwise).
    """
    docs = documents(inst)
    with inst.sessions() as session:
        awards = session.scalars(select(Award).where(Award.external_key.not_like("scaffold-%"))).all()
        lists = {sl.id: sl for sl in session.scalars(select(StatusList))}
        allocations = session.execute(select(StatusAllocation.list_id, StatusAllocation.index,
                                             StatusAllocation.award_id)).all()
        assert len({(list_id, index) for list_id, index, _ in allocations}) == len(allocations)   # no index shared
        by_award: dict[str, list[tuple[int, int]]] = {}
        for list_id, index, award_id in allocations:
            by_award.setdefault(award_id, []).append((list_id, index))
        assert len(by_award.pop(None, [])) <= unowned                                   # claims left by a kill
        scaffolding = set(session.scalars(select(Award.id).where(Award.external_key.like("scaffold-%"))))
        assert set(by_award) - scaffolding == {a.id for a in awards}                   # no orphans
        for award in awards:
            assert award.credential
            credential = json.loads(award.credential)
            report = verify_credential(credential, offline=True, documents=docs)
            assert report.verified, report.to_dict()
            mine = by_award[award.id]
            assert sorted(lists[list_id].purpose for list_id, _ in mine) == ["revocation", "suspension"]
            named = {(entry["statusListCredential"], int(entry["statusListIndex"]))
                     for entry in credential["credentialStatus"]}
            assert named == {(list_url(inst.settings, lists[list_id]), index) for list_id, index in mine}
            assert all(0 <= index < lists[list_id].size for list_id, index in mine)
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == len(awards)
        return awards


# --------------------------------------------------------------------------- dry run

BAD_FILE = textwrap.dedent(f"""\
    Email,NAME,employee_id,did,Achievement,evidence_url,evidence_narrative,evidence_name,result_description,result_value,awarded_date,external_id
    ok1@example.com,Alex One,E1,,teamwork,https://example.com/review/1,,,{RD},B,2026-01-15,
    ,No Email,,,teamwork,,,,,,,
    not-an-email,Bad Email,,,teamwork,,,,,,,
    ok2@example.com,Unknown Ach,,,knitting,,,,,,,
    ok3@example.com,Unknown RD,,,teamwork,,,,urn:uuid:nope,A,,
    ok4@example.com,Bad Date,,,teamwork,,,,,,2026-02-30,

    ok5@example.com,Bad URL,,,teamwork,ftp://example.com/x,,,,,,
    ok6@example.com,=HYPERLINK("http://evil"),,,teamwork,,,,,,,
    ok7@example.com,Multi line,,,python-basics,,"Line one
    line two of the narrative",,,,,
    ok1@example.com,Alex One,E1,,teamwork,https://example.com/review/1,,,{RD},B,2026-01-15,
    ok8@example.com,Script URL,,,teamwork,javascript:alert(1),,,,,,
    ok9@example.com,@SUM(A1),,,teamwork,,,,,,,
    ok10@example.com,Plus,+1-555,,teamwork,,,,,,,
    ok11@example.com,No Zone,,,teamwork,,,,,,2026-01-15T09:00:00,
    ok12@example.com,Future,,,teamwork,,,,,,2999-01-01,
    ok13@example.com,Value only,,,teamwork,,,,,B,,
    ok14@example.com,Not allowed,,,teamwork,,,,{RD},F,,
    ok15@example.com,Bad DID,,did:Nope,teamwork,,,,,,,
    ok16@example.com,Ext,,,teamwork,,,,,,,hr-1
    ok17@example.com,Ext again,,,python-basics,,,,,,,hr-1
    ok1@example.com,Alexander One,,,python-basics,,,,,,,
    ok18@example.com,Expired,,,teamwork,,,,,,2020-01-01,
    ok19@example.com,Too many,,,teamwork,,,,,,,,extra
    ok20@example.com,-minus,,,teamwork,,,,,,,
    OK7@Example.com,Multi line,,,python-basics,,"Line one
    line two of the narrative",,,,,
    """)

EXPECTED = {
    3: "email is required.",
    4: "'not-an-email' is not an email address",
    5: "There is no achievement 'knitting'.",
    6: "The result refers to 'urn:uuid:nope', which is not one of the result descriptions of 'teamwork'",
    7: "awarded_date '2026-02-30' is not an ISO 8601 date",
    9: "evidence_url 'ftp://example.com/x' is not an http(s) URL",
    10: "CSV injection",
    13: "duplicate of line 2",
    14: "evidence_url 'javascript:alert(1)' is not an http(s) URL",
    15: "CSV injection",
    16: "employee_id '+1-555' starts with '+'",
    17: "has a time but no time zone",
    18: "awarded_date '2999-01-01' is in the future",
    19: "result_value is given without result_description",
    20: "result_value 'F' is not one of the values",
    21: "is not a DID",
    23: "duplicate of line 22 (the same external_id)",
    24: "name 'Alexander One' differs from 'Alex One' given for ok1@example.com on line 2",
    25: "would already have expired on 2022-01-01",
    26: "has 13 cells but the header names 12 columns",
    27: "name '-minus' starts with '-'",
    28: "duplicate of line 11",
}


def test_dry_run_reports_every_bad_row_with_its_line_and_issues_nothing(inst, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_FILE, encoding="utf-8")
    before = counts(inst)
    with inst.sessions() as session:
        report = validate_csv(path, session, inst.issuer(session))
    assert not report.ok
    found = {p.line: p.reason for p in report.problems}
    assert sorted(found) == sorted(EXPECTED), report.lines()
    for line, reason in EXPECTED.items():
        assert reason in found[line], (line, found[line])
    assert all(str(p).startswith(f"line {p.line}: ") for p in report.problems)
    assert [r.line for r in report.rows] == [2, 11, 22]     # the good rows (line 11 spans two lines)
    assert report.total_rows == 25
    assert counts(inst) == before                           # nothing issued, no recipient created
    result = run(inst, path)
    assert not result.started and not result.ok and result.issued == 0 and result.awards == []
    assert [str(p) for p in result.report.problems] == report.lines()
    assert counts(inst) == before


def test_achievement_by_id_or_slug_and_duplicates_across_both(inst):
    text = csv_text([{"email": "a@example.com", "achievement": "teamwork"},
                     {"email": "a@example.com", "achievement": inst.teamwork_id},
                     {"email": "b@example.com", "achievement": inst.teamwork_id}])
    with inst.sessions() as session:
        report = validate_csv(text, session, inst.issuer(session))
    assert report.lines() == ["line 3: duplicate of line 2 (same recipient, achievement, evidence, result and date)"]
    assert [r.achievement_id for r in report.rows] == [inst.teamwork_id, inst.teamwork_id]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bytes_that_are_not_utf8_are_reported_by_line(inst):
    raw = ("\ufeffemail,name,achievement\n"
           "a@example.com,Ann,teamwork\n").encode("utf-8") + "b@example.com,Ren\xe9e,teamwork\n".encode("latin-1") + \
        "c@example.com,Zoë,teamwork\n".encode() + b"d@example.com,\xff\xfe,python-basics\n"
    with inst.sessions() as session:
        report = validate_csv(raw, session, inst.issuer(session))
    assert report.lines() == ["line 3: not UTF-8 text (byte 0xE9 at column 18); save the file as CSV UTF-8",
                              "line 5: not UTF-8 text (byte 0xFF at column 15); save the file as CSV UTF-8"]
    assert [r.request.name for r in report.rows] == ["Ann", "Zoë"]     # the BOM is not part of "email"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("text, expected", [
    ("", ["line 1: the file is empty: it needs a header row naming its columns (at least email, achievement)"]),
    ("name,achievement\nA,teamwork\n", ["line 1: the required column 'email' is missing"]),
    ("email,achievment\na@example.com,teamwork\n",
     ["line 1: unknown column 'achievment' (the columns are: " + ", ".join(COLUMNS) + ")",
      "line 1: the required column 'achievement' is missing"]),
    ("email;achievement\na@example.com;teamwork\n",
     ["line 1: the columns are separated by ';'; separate them with commas"]),
    ("email,achievement,EMAIL\n", ["line 1: the column 'email' appears twice"]),
    ("email,,achievement\n", ["line 1: column 2 has no name"]),
    ("email,achievement,,\na@example.com,teamwork,,\nb@example.com,teamwork,x\n",
     ["line 3: has 3 cells but the header names 2 columns"]),
    ('email,achievement\n"a@example.com"x,teamwork\n', None),
])
def test_header_and_file_problems(inst, tmp_path, text, expected):
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8")
    with inst.sessions() as session:
        report = validate_csv(path, session, inst.issuer(session))
    if expected is None:
        assert len(report.problems) == 1 and report.problems[0].line == 2
        assert report.problems[0].reason.startswith("not readable as CSV")
    else:
        assert report.lines() == expected


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_rows_over_the_cap_are_refused(inst, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 5)
    text = csv_text(people(0, 7), header=["email", "name", "employee_id", "achievement"])
    with inst.sessions() as session:
        report = validate_csv(text, session, inst.issuer(session))
    assert report.lines() == ["line 7: too many rows: a file may hold at most 5 awards; split it into smaller files"]
    assert report.total_rows == 5


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_awarded_dates_allow_five_minutes_of_clock_skew(inst, tmp_path):
    """The API's rule: a date-time up to 5 minutes ahead of the issuer's clock is accepted, later ones are not."""
    now = datetime.now(UTC).replace(microsecond=0)
    soon, late = (now + timedelta(minutes=4)).isoformat(), (now + timedelta(minutes=6)).isoformat()
    rows = [{"email": "a@example.com", "achievement": "python-basics", "awarded_date": soon},
            {"email": "b@example.com", "achievement": "python-basics", "awarded_date": late}]
    with inst.sessions() as session:
        report = validate_csv(csv_text(rows), session, inst.issuer(session), now=now)
    assert [p.line for p in report.problems] == [3] and "is in the future" in report.problems[0].reason
    result = run(inst, write(tmp_path, rows[:1]), now=now)
    assert result.issued == 1
    awards = check_store(inst)                   # the self-check and the verifier allow the same skew
    assert json.loads(awards[0].credential)["validFrom"] == soon.replace("+00:00", "Z")


# --------------------------------------------------------------------------- issuing

def test_clean_file_issues_every_row_and_running_it_again_issues_nothing(inst, tmp_path):
    rows = people(0, 11)
    rows[0].update(evidence_url="https://intranet.example.com/reviews/0", evidence_narrative="Led the review.\nTwice.",
                   evidence_name="Review", result_description=RD, result_value="A", awarded_date="2026-01-31",
                   did="did:example:person0")
    rows[1].update(awarded_date="2025-06-30T14:30:00+02:00", external_id="hr-0001")
    path = write(tmp_path, rows)
    seen = []
    result = run(inst, path, chunk_size=4, progress=lambda done, total: seen.append((done, total)))
    assert result.ok and result.issued == 11 and result.already_issued == 0
    assert seen == [(0, 11), (4, 11), (8, 11), (11, 11)]
    assert [a.line for a in result.awards] == [2, *range(4, 14)]     # row 1 has a two-line narrative
    assert all(a.created for a in result.awards)
    assert result.credential_urls == [f"{BASE_URL}/credentials/{i}" for i in result.award_ids]
    awards = {a.id: a for a in check_store(inst)}
    assert set(awards) == set(result.award_ids)

    first = awards[result.award_ids[0]]
    credential = json.loads(first.credential)
    assert credential["evidence"] == [{"type": ["Evidence"], "id": "https://intranet.example.com/reviews/0",
                                       "narrative": "Led the review.\nTwice.", "name": "Review"}]
    subject = credential["credentialSubject"]
    assert subject["result"] == [{"type": ["Result"], "resultDescription": RD, "value": "A"}]
    assert subject["id"] == "did:example:person0"
    identity = subject["identifier"][0]
    assert identity["identityHash"] == hashed_identity("person0@example.com", identity["salt"])
    assert credential["awardedDate"] == credential["validFrom"] == "2026-01-31T00:00:00Z"
    assert credential["validUntil"] == "2028-01-31T00:00:00Z"
    second = json.loads(awards[result.award_ids[1]].credential)
    assert second["awardedDate"] == "2025-06-30T12:30:00Z" and "validUntil" not in second   # python-basics
    with inst.sessions() as session:
        person = session.scalars(select(Recipient).where(Recipient.email == "person0@example.com")).one()
        assert (person.name, person.employee_id, person.did) == ("Person 0", "E0000", "did:example:person0")
        audit = session.scalars(select(AuditEntry).where(AuditEntry.award_id == first.id)).one()
        assert (audit.actor, audit.action, audit.details["line"]) == ("test", "issue", 2)

    again = run(inst, path, chunk_size=4)
    assert again.ok and again.issued == 0 and again.already_issued == 11
    assert again.award_ids == result.award_ids and not any(a.created for a in again.awards)
    assert counts(inst)["Award"] == 11

    # an overlapping file: 5 rows already issued (one with a corrected name), 4 new ones
    overlap = rows[3:8] + people(20, 4)
    overlap[0]["name"] = "Person Three"
    again = run(inst, write(tmp_path, overlap, "overlap.csv"), chunk_size=3)
    assert again.issued == 4 and again.already_issued == 5
    assert again.award_ids[:5] == result.award_ids[3:8]
    check_store(inst)
    assert counts(inst)["Award"] == 15


def test_a_file_with_only_a_header_issues_nothing(inst, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("email,achievement\n\n", encoding="utf-8")
    result = run(inst, path)
    assert result.ok and (result.issued, result.already_issued, result.awards) == (0, 0, [])
    assert counts(inst)["Award"] == 0


def test_external_id_replaces_the_row_content_as_key(inst, tmp_path):
    path = write(tmp_path, [{"email": "a@example.com", "achievement": "teamwork", "external_id": "hr-7"}])
    assert run(inst, path).issued == 1
    # the same external id with a corrected row: already issued, not a second award
    fixed = write(tmp_path, [{"email": "a@example.com", "achievement": "teamwork", "external_id": "hr-7",
                              "result_description": RD, "result_value": "B"}], "fixed.csv")
    again = run(inst, fixed)
    assert (again.issued, again.already_issued) == (0, 1)


def test_an_external_id_of_another_issuer_is_refused(inst, tmp_path):
    other_settings = load_settings(env={}, instance=tmp_path / "other", keys_dir=tmp_path / "other-keys",
                                   base_url="https://other.example.com", database_url=inst.settings.database_url)
    with inst.sessions() as session, session.begin():
        other = Issuer(did=other_settings.did, base_url=other_settings.base_url, name="Other Corp")
        session.add(other)
        session.flush()
        add_key(session, other_settings, other)
        ensure_lists(session, other_settings, other)
        session.add(Achievement(issuer_id=other.id, slug="teamwork", name="Teamwork", description="Theirs."))
    path = write(tmp_path, [{"email": "a@example.com", "achievement": "teamwork", "external_id": "hr-1"}])
    assert issue_csv(path, Runtime(other_settings, inst.sessions), actor="other", workers=0).issued == 1
    both = write(tmp_path, [{"email": "a@example.com", "achievement": "teamwork", "external_id": "hr-1"},
                            {"email": "b@example.com", "achievement": "teamwork", "external_id": "hr-2"}], "both.csv")
    with inst.sessions() as session:
        report = validate_csv(both, session, inst.issuer(session))
    assert report.lines() == ["line 2: external_id 'hr-1' is already used by an award of another issuer"]
    assert [r.line for r in report.rows] == [3]
    assert not run(inst, both).started


def test_rows_issued_by_issue_award_count_as_already_issued(inst, tmp_path):
    awarded = datetime(2026, 2, 1, tzinfo=UTC)
    with inst.sessions() as session, session.begin():
        ctx = IssuerContext.load(session, inst.settings, inst.issuer(session))
        award, _ = issue_award(session, ctx, AwardRequest("teamwork", "Pat@Example.com", awarded_at=awarded),
                               actor="test")
        award_id = award.id
    path = write(tmp_path, [{"email": "pat@example.com", "achievement": "teamwork", "awarded_date": "2026-02-01"},
                            {"email": "sam@example.com", "achievement": "teamwork", "awarded_date": "2026-02-01"}])
    result = run(inst, path)
    assert (result.issued, result.already_issued) == (1, 1)
    assert result.awards[0].award_id == award_id and not result.awards[0].created
    check_store(inst)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("threads, method", [(1, "fork"), (3, "forkserver")])
def test_worker_processes_sign_and_self_verify(inst, tmp_path, monkeypatch, threads, method):
    """Forked workers when this process runs one thread; a fork server when others run (forking is unsafe then)."""
    monkeypatch.setattr(threading, "active_count", lambda: threads)
    assert bulk._process_context().get_start_method() == method
    path = write(tmp_path, people(0, 30, evidence_url="https://intranet.example.com/x"))
    result = run(inst, path, chunk_size=8, workers=2)
    assert result.ok and result.issued == 30
    check_store(inst)


def test_a_run_that_fails_mid_way_leaves_only_complete_awards_and_a_rerun_finishes(inst, tmp_path):
    path = write(tmp_path, people(0, 14))
    commits = Counter()

    def crash_on_third_chunk(session):
        if session.execute(select(func.count()).select_from(Award)).scalar() > 8:   # chunk 3 is in, uncommitted
            commits["crashed"] += 1
            raise RuntimeError("power cut")

    event.listen(inst.sessions, "before_commit", crash_on_third_chunk)
    with pytest.raises(RuntimeError, match="power cut"):
        run(inst, path, chunk_size=4)
    event.remove(inst.sessions, "before_commit", crash_on_third_chunk)
    assert commits["crashed"] == 1
    assert counts(inst) == {"Award": 8, "Recipient": 8, "StatusAllocation": 16, "AuditEntry": 8}
    check_store(inst)

    result = run(inst, path, chunk_size=4)
    assert (result.issued, result.already_issued) == (6, 8)
    assert counts(inst)["Award"] == 14
    check_store(inst)


def test_a_key_rotation_during_the_run_stops_it_cleanly(inst, tmp_path):
    path = write(tmp_path, people(0, 9))
    rotated = []

    def rotate_after_the_first_chunk(done, total):
        if done and not rotated:
            with inst.sessions() as session, session.begin():
                add_key(session, inst.settings, inst.issuer(session))
            rotated.append(done)

    with pytest.raises(Conflict, match="signing key changed during the run") as caught:
        run(inst, path, chunk_size=3, progress=rotate_after_the_first_chunk)
    assert caught.value.code == "key_rotated"
    assert counts(inst)["Award"] == 3            # the chunk signed before the rotation was not stored
    check_store(inst)
    result = run(inst, path, chunk_size=3)
    assert (result.issued, result.already_issued) == (6, 3)
    with inst.sessions() as session:
        methods = Counter(json.loads(c)["proof"]["verificationMethod"].rsplit("#", 1)[1]
                          for c in session.scalars(select(Award.credential)))
    assert methods == {"key-1": 3, "key-2": 6}
    check_store(inst)


KILLER = f"""
import os, signal, sys
from issuer.bulk.run import issue_csv
from issuer.config import load_settings
from issuer.db.engine import make_engine, session_factory
from issuer.runtime import Runtime

folder, database_url, path = sys.argv[1:4]
settings = load_settings(env={{}}, instance=folder, keys_dir=folder + "/keys", base_url="{BASE_URL}",
                         database_url=database_url)

def progress(done, total):
    if done:                                  # the first chunk is committed: die without any cleanup
        os.kill(os.getpid(), signal.SIGKILL)

issue_csv(path, Runtime(settings, session_factory(make_engine(database_url))), actor="killed",
          progress=progress, chunk_size=5, workers=int(sys.argv[4]))
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("workers", [0, 2])
def test_a_killed_process_leaves_only_complete_awards_and_a_rerun_finishes(inst, tmp_path, workers):
    path = write(tmp_path, people(0, 17))
    done = subprocess.run([sys.executable, "-c", KILLER, str(inst.settings.instance), inst.settings.database_url,
                           str(path), str(workers)], capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    assert counts(inst)["Award"] == 5
    check_store(inst, unowned=2 * 5 * bulk.IN_FLIGHT)     # the chunks in flight: claimed, never used
    result = run(inst, path, chunk_size=5)
    assert (result.issued, result.already_issued) == (12, 5)
    check_store(inst, unowned=2 * 5 * bulk.IN_FLIGHT)


def test_a_claimed_index_lost_before_the_store_makes_the_chunk_retry(inst, tmp_path, monkeypatch):
    """One of a chunk's claimed indexes has another owner when the chunk is stored (another process
    misbehaved, or the claim was taken over): the chunk is rolled back and planned again."""
    original = bulk._Run._write
    calls = []

    def write_after_a_concurrent_award(self, chunk, credentials):
        calls.append(len(chunk.planned))
        if len(calls) == 1:
            status_list, taken_index = next(iter(chunk.planned[0].slots.values()))
            taken_list = status_list.id
            with self.runtime.transaction() as session:
                other = Award(issuer_id=inst.issuer_id, achievement_id=inst.teamwork_id,
                              recipient_id=_recipient(session, inst.issuer_id), external_key="scaffold-" + new_id(),
                              awarded_at=datetime.now(UTC), valid_from=datetime.now(UTC),
                              credential="{}")
                session.add(other)
                session.flush()
                session.execute(update(StatusAllocation).where(StatusAllocation.list_id == taken_list,
                                                               StatusAllocation.index == taken_index)
                                .values(award_id=other.id))
            calls.append(("taken", taken_list, taken_index))
        return original(self, chunk, credentials)

    monkeypatch.setattr(bulk._Run, "_write", write_after_a_concurrent_award)
    result = run(inst, write(tmp_path, people(0, 6)), chunk_size=10)
    assert result.issued == 6
    assert calls[0] == 6 and calls[1][0] == "taken" and calls[2] == 6        # the chunk was stored on its 2nd try
    _, taken_list, taken_index = calls[1]
    with inst.sessions() as session:
        owner = session.scalars(select(StatusAllocation.award_id).where(StatusAllocation.list_id == taken_list,
                                                                        StatusAllocation.index == taken_index)).one()
        assert owner not in result.award_ids
        allocations = session.execute(select(StatusAllocation.list_id, StatusAllocation.index)).all()
        assert len(allocations) == len(set(allocations)) == 13


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_full_status_lists_are_followed_by_new_ones_and_no_index_is_shared(db_url, tmp_path):
    engine = make_engine(db_url)
    migrate(engine)
    inst = _setup(session_factory(engine), _settings(tmp_path, db_url), room=12)
    result = run(inst, write(tmp_path, people(0, 30)), chunk_size=5)
    assert result.issued == 30
    check_store(inst)
    with inst.sessions() as session:
        lists = session.scalars(select(StatusList).order_by(StatusList.purpose, StatusList.number)).all()
        assert [(sl.purpose, sl.number) for sl in lists] == [("revocation", 1), ("revocation", 2),
                                                            ("suspension", 1), ("suspension", 2)]
        new = Counter(a.list_id for a in session.scalars(select(StatusAllocation).where(
            StatusAllocation.award_id.in_(result.award_ids))))
        assert {sl.number: new[sl.id] for sl in lists} == {1: 12, 2: 18}
    engine.dispose()


# --------------------------------------------------------------------------- the command

@pytest.fixture
def cli_env(sqlite_inst, monkeypatch):
    settings = sqlite_inst.settings
    monkeypatch.setenv("MICROCRED_INSTANCE", str(settings.instance))
    monkeypatch.setenv("MICROCRED_KEYS", str(settings.keys_dir))
    monkeypatch.setenv("MICROCRED_BASE_URL", settings.base_url)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    return sqlite_inst


def test_cli_dry_run(cli_env, tmp_path):
    runner = CliRunner()
    clean = write(tmp_path, people(0, 3))
    done = runner.invoke(cli_main, ["issue-bulk", str(clean), "--dry-run"])
    assert done.exit_code == 0, done.output
    assert done.stdout == "3 rows, all valid: 3 to issue, 0 already issued (dry run: nothing was issued)\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_FILE, encoding="utf-8")
    done = runner.invoke(cli_main, ["issue-bulk", str(bad), "--dry-run"])
    assert done.exit_code == 2
    lines = done.stdout.splitlines()
    assert [int(line.split(":")[0].removeprefix("line ")) for line in lines] == sorted(EXPECTED)
    assert done.stderr == f"{len(EXPECTED)} bad rows of 25; nothing was issued\n"
    assert counts(cli_env)["Award"] == 0


def test_cli_real_run(cli_env, tmp_path):
    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_FILE, encoding="utf-8")
    done = runner.invoke(cli_main, ["issue-bulk", str(bad)])
    assert done.exit_code == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"error: {bad}: line 3: email is required. and ")
    assert counts(cli_env)["Award"] == 0

    missing = runner.invoke(cli_main, ["issue-bulk", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and missing.stderr.startswith("error: ") and missing.stderr.count("\n") == 1

    clean = write(tmp_path, people(0, 7))
    done = runner.invoke(cli_main, ["issue-bulk", str(clean), "--chunk-size", "3"])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("issued 7 awards, 0 already issued (7 rows) in ")
    assert "issuing" in done.stderr
    check_store(cli_env)
    done = runner.invoke(cli_main, ["issue-bulk", str(clean)])
    assert done.exit_code == 0 and done.stdout.startswith("issued 0 awards, 7 already issued (7 rows)")


def test_cli_without_an_issuer(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROCRED_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("MICROCRED_KEYS", str(tmp_path / "keys"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    path = write(tmp_path, people(0, 1))
    done = CliRunner().invoke(cli_main, ["issue-bulk", str(path)])
    assert done.exit_code == NotReady.exit_code and done.stdout == ""
    assert done.stderr.startswith("error: no issuer is set up") and done.stderr.count("\n") == 1


def test_bulk_awards_queue_their_award_emails_in_the_same_transaction(tmp_path):
    """Every award issued from a CSV has exactly one "awarded" email in the outbox, baked PNG attached."""
    settings = load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys",
                             base_url="https://hr.example.com")
    init_instance(settings, name="Example Corp")
    sessions = open_instance(settings)
    runtime = Runtime(settings, sessions)
    with sessions.begin() as session:
        issuer = runtime.load_issuer(session)
        session.add(Achievement(issuer_id=issuer.id, **achievement_from_definition({
            "slug": "sql", "name": "SQL", "description": "Writes SQL.", "criteria_narrative": "Practical."})))
    csv_path = tmp_path / "awards.csv"
    csv_path.write_text("email,name,achievement\n" + "".join(f"p{i}@example.com,Person {i},sql\n" for i in range(5)))
    result = issue_csv(csv_path, runtime, actor="test", workers=0)
    assert result.issued == 5
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.to_address)).all()
        assert [r.to_address for r in rows] == [f"p{i}@example.com" for i in range(5)]
        assert {r.award_id for r in rows} == set(session.scalars(select(Award.id)))
        assert all(r.attachment_name == "sql.png" and r.attachment is None for r in rows)    # baked when sent
        award_of = {a.id: a for a in session.scalars(select(Award))}
        messages = [build_message(r, "hr@example.com", attachment_for(session, r)) for r in rows]
        for row, message in zip(rows, messages, strict=True):
            [attachment] = list(message.iter_attachments())
            assert extract_baked(attachment.get_content()).value == award_of[row.award_id].credential
    again = issue_csv(csv_path, runtime, actor="test", workers=0)
    assert again.issued == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 5


def test_claims_of_two_processes_never_share_an_index_and_a_taken_one_is_drawn_again(inst):
    """Two processes' StatusIndexes, each drawing the same numbers: the second one's claims avoid the
    first's (committed at once, before anything is signed), and an index claimed meanwhile is redrawn."""
    with inst.sessions() as session:
        lists = StatusIndexes().open_lists(session, inst.settings, session.get(Issuer, inst.issuer_id))
    sequence = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]
    draws = iter(sequence), iter(sequence)
    first = StatusIndexes(draw=lambda size: next(draws[0]))
    second = StatusIndexes(draw=lambda size: next(draws[1]))
    mine = first.claim(inst.sessions, lists, 2)            # (revocation, suspension) = (7, 8), (9, 10)
    theirs = second.claim(inst.sessions, lists, 2)         # draws 7..10 too: every one taken, drawn again
    taken = {(status_list.id, index) for slot in mine for status_list, index in slot.values()}
    again = {(status_list.id, index) for slot in theirs for status_list, index in slot.values()}
    assert len(taken) == len(again) == 4 and not taken & again
    with inst.sessions() as session:
        unowned = {(list_id, index) for list_id, index in session.execute(
            select(StatusAllocation.list_id, StatusAllocation.index).where(StatusAllocation.award_id.is_(None)))}
    assert taken | again <= unowned
    first.release(inst.sessions, mine)                    # work failed: the claims go back
    with inst.sessions() as session:
        left = {(list_id, index) for list_id, index in session.execute(
            select(StatusAllocation.list_id, StatusAllocation.index).where(StatusAllocation.award_id.is_(None)))}
    assert not taken & left and again <= left
