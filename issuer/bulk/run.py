"""Bulk issuance from a CSV file (the format is documented in ``docs/bulk-csv.md``).

    report = validate_csv("awards.csv", session, issuer)          # dry run: issues nothing
    for problem in report.problems:
        print(problem)                                            # "line 7: unknown achievement 'x'"

    result = issue_csv("awards.csv", session_factory, settings, settings.did, actor="hr:alex")
    result.issued, result.already_issued, result.award_ids, result.credential_urls

:func:`issue_csv` validates the whole file first and issues nothing if any row is bad.
It then issues in chunks, one transaction per chunk: every award is stored together
with its signed (and self-verified) credential, its recipient, its two status list
allocations and its audit entry, so a run killed half-way leaves only complete awards,
and running the same file again issues only what is missing (the idempotency key is
:meth:`AwardRequest.external_key`; rows already issued are counted, not duplicated).

Every credential is built, signed and verified with :func:`issuer.awards.issuance.self_check`
exactly as :func:`issuer.awards.issuance.issue_award` does; what makes bulk runs fast is done
around that:

* the database work is per chunk, not per award: one query for the awards already issued,
  one for the recipients, one for the used status indexes, and bulk INSERTs;
* status indexes are drawn at random in memory, avoiding the indexes already used (loaded
  once per chunk), and still stored as ``StatusAllocation`` rows whose primary key makes
  a shared index impossible: when a concurrent issuer took one of them first the chunk
  is rolled back and planned again;
* building, signing and self-verifying (CPU-bound) run in a pool of worker processes
  while the main process plans and writes the chunks; each worker loads the issuer's key
  from the keys folder itself (nothing secret goes through the pool's pipes).
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from issuer.awards.credentials import build_credential, credential_url
from issuer.awards.issuance import EMAIL, AwardRequest, IssuanceError, IssuerContext, add_months, self_check
from issuer.awards.status_lists import PURPOSES, list_url
from issuer.config import Settings
from issuer.db.models import (
    Achievement,
    AuditEntry,
    Award,
    Issuer,
    IssuerKey,
    OutboxMessage,
    Recipient,
    StatusAllocation,
    new_id,
    utcnow,
)
from issuer.identity import profile
from issuer.keys.files import load_key
from issuer.keys.keyring import current_key, verification_method
from issuer.mail.compose import AwardMail
from issuer.mail.outbox import outbox_row
from issuer.signing import sign_credential
from verifier.errors import CredentialError
from verifier.recipient import normalize_identity
from verifier.schema_bundle import is_uri

MAX_ROWS = 100_000                       # data rows per file
MAX_FILE_BYTES = 100 * 1024 * 1024
COLUMNS = ("email", "name", "employee_id", "did", "achievement", "evidence_url", "evidence_narrative",
           "evidence_name", "result_description", "result_value", "awarded_date", "external_id")
REQUIRED = ("email", "achievement")
MAX_LENGTH = {"email": 320, "name": 255, "employee_id": 100, "did": 255, "achievement": 100,
              "evidence_url": 2048, "evidence_narrative": 10_000, "evidence_name": 255,
              "result_description": 1024, "result_value": 255, "awarded_date": 40, "external_id": 200}
# Cells that end up in spreadsheets (exports, HR reports) as typed: a leading = + - @ (or tab / CR)
# would make a spreadsheet run them as a formula (CSV injection).
FORMULA_CHECKED = ("name", "employee_id", "evidence_name", "external_id")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EARLIEST_AWARD = datetime(1970, 1, 1, tzinfo=UTC)
_DID = re.compile(r"^did:[a-z0-9]+:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*(?::(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*)*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")     # C0 controls except tab, LF, CR; DEL
_LINE_BREAK = re.compile(r"[\t\n\r]")
_NEWLINES = re.compile(rb"\r\n|\r|\n")
_IN_BATCH = 500                          # ids per IN (...) query

ProgressCallback = Callable[[int, int], None]


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class RowProblem:
    """One bad row (or a problem with the whole file: ``line`` 1 is the header)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class BulkRow:
    """A valid row, ready to issue."""

    line: int
    request: AwardRequest                 # as issue_award would get it (achievement: the slug or id given)
    achievement_id: str
    key: str                              # the idempotency key: request.external_key()


@dataclass
class ValidationReport:
    rows: list[BulkRow] = field(default_factory=list)          # the valid rows, in file order
    problems: list[RowProblem] = field(default_factory=list)   # by line
    total_rows: int = 0                                        # data rows read (blank lines skipped)
    already_issued: int = 0                                    # valid rows whose award exists already
    existing_keys: set[str] = field(default_factory=set)       # the idempotency keys of those rows

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def to_issue(self) -> int:
        return len(self.rows) - self.already_issued

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


@dataclass(frozen=True)
class BulkAward:
    line: int
    award_id: str
    credential_url: str
    created: bool                         # False: issued before (by an earlier run or request)


@dataclass
class BulkResult:
    report: ValidationReport
    started: bool = False                 # False: the file had bad rows and nothing was done
    issued: int = 0
    already_issued: int = 0
    awards: list[BulkAward] = field(default_factory=list)     # one per row, in file order
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.started and self.report.ok

    @property
    def award_ids(self) -> list[str]:
        return [a.award_id for a in self.awards]

    @property
    def credential_urls(self) -> list[str]:
        return [a.credential_url for a in self.awards]


class BulkInputError(IssuanceError):
    code = "bulk_input_invalid"


# --------------------------------------------------------------------------- reading

def _read_source(source: str | os.PathLike | bytes) -> tuple[bytes, str]:
    """(raw bytes, display name). A str with a line break is CSV text; any other str is a path."""
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), "<data>"
    if isinstance(source, str) and ("\n" in source or "\r" in source):
        return source.encode("utf-8"), "<text>"
    path = Path(source)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise BulkInputError(f"{path} is {size // (1024 * 1024)} MiB; a bulk file may be at most "
                             f"{MAX_FILE_BYTES // (1024 * 1024)} MiB (split it)", code="too_large")
    with open(path, "rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1), path.name


def _decode(raw: bytes) -> tuple[str, dict[int, str]]:
    """The text (a UTF-8 BOM dropped), and line number -> why that line is not UTF-8."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), {}
    except UnicodeDecodeError:
        pass
    bad: dict[int, str] = {}
    for number, line in enumerate(_NEWLINES.split(raw), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad[number] = (f"not UTF-8 text (byte 0x{line[exc.start]:02X} at column {exc.start + 1}); "
                           "save the file as CSV UTF-8")
    return raw.decode("utf-8", errors="replace"), bad


def _records(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, cells) per CSV record; blank lines skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _CsvError(last + 1, f"not readable as CSV ({exc}); check the quotes on this line") from exc
        first, last = last + 1, reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        yield first, last, cells


class _CsvError(Exception):
    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line, self.reason = line, reason


def _header(cells: list[str]) -> tuple[dict[str, int], list[str]]:
    """column -> position, and the problems with the header."""
    problems: list[str] = []
    positions: dict[str, int] = {}
    while cells and not cells[-1].strip():     # spreadsheets sometimes add empty columns at the end
        cells = cells[:-1]
    if len(cells) == 1 and (";" in cells[0] or "\t" in cells[0]):
        sep = "';'" if ";" in cells[0] else "tabs"
        return {}, [f"the columns are separated by {sep}; separate them with commas"]
    for position, name in enumerate(cells):
        column = unicodedata.normalize("NFC", name).strip().lower()
        if not column:
            problems.append(f"column {position + 1} has no name")
        elif column not in COLUMNS:
            problems.append(f"unknown column {name.strip()!r} (the columns are: {', '.join(COLUMNS)})")
        elif column in positions:
            problems.append(f"the column {column!r} appears twice")
        else:
            positions[column] = position
    for column in REQUIRED:
        if column not in positions:
            problems.append(f"the required column {column!r} is missing")
    return positions, problems


def read_cells(raw: bytes, columns: Sequence[str]) -> tuple[dict[int, dict[str, str]], int | None]:
    """(first line of each data record -> its trimmed cells of ``columns``, the header's line).

    Reads the file as :func:`validate_csv` does (same decoding and CSV dialect) and stops where
    it stops reading; for showing rows beside the report's problems. Unknown or absent columns
    are empty strings.
    """
    text, _undecodable = _decode(raw)
    records = _records(text)
    found: dict[int, dict[str, str]] = {}
    header = None
    try:
        header = next(records, None)
        if header is None:
            return found, None
        positions, _problems = _header(header[2])
        for first, _last, cells in records:
            found[first] = {column: cells[positions[column]].strip()
                            if column in positions and positions[column] < len(cells) else ""
                            for column in columns}
    except _CsvError:
        pass
    return found, header[0] if header else None


# --------------------------------------------------------------------------- checking one row

class _Catalog:
    """The issuer's achievements, by id and by slug."""

    def __init__(self, achievements: Iterable[Achievement]):
        self.by_ref: dict[str, Achievement] = {}
        for achievement in achievements:
            self.by_ref[achievement.id] = achievement
        for achievement in self.by_ref.copy().values():
            self.by_ref.setdefault(achievement.slug, achievement)

    @classmethod
    def load(cls, session: Session, issuer: Issuer) -> _Catalog:
        return cls(session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)))


def _parse_awarded(value: str, now: datetime) -> datetime | str:
    """The awarded date-time (UTC, whole seconds), or why it is refused."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            if not re.fullmatch(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|z|[+-]\d\d:?\d\d)?", value):
                raise ValueError
            parsed = datetime.fromisoformat(value.replace("z", "Z"))
            if parsed.tzinfo is None:
                return (f"awarded_date {value!r} has a time but no time zone; add one (e.g. {value}Z for UTC), "
                        "or give only the date")
    except ValueError:
        return f"awarded_date {value!r} is not an ISO 8601 date (2026-03-31) or date-time (2026-03-31T09:00:00Z)"
    parsed = parsed.astimezone(UTC).replace(microsecond=0)
    if parsed < EARLIEST_AWARD:
        return f"awarded_date {value!r} is before 1970"
    if parsed > now:
        return f"awarded_date {value!r} is in the future"
    return parsed


def _check_url(value: str) -> str | None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        return f"evidence_url {value!r} is not a valid URL"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"evidence_url {value!r} is not an http(s) URL"
    if not is_uri(value):
        return f"evidence_url {value!r} has characters a URL may not contain (spaces, non-ASCII: percent-encode them)"
    return None


class _Row:
    """Cell access for one record: trimmed, None when empty."""

    def __init__(self, cells: list[str], positions: dict[str, int]):
        self.values = {column: cells[index].strip() or None for column, index in positions.items()
                       if index < len(cells)}

    def get(self, column: str) -> str | None:
        return self.values.get(column)


def _check_row(row: _Row, catalog: _Catalog, now: datetime) -> tuple[AwardRequest, Achievement] | str:
    """(request, achievement) or the first reason the row is refused."""
    for column, value in row.values.items():
        if value is None:
            continue
        if len(value) > MAX_LENGTH[column]:
            return f"{column} is longer than {MAX_LENGTH[column]} characters"
        allowed_breaks = column == "evidence_narrative"
        if _CONTROL.search(value) or (not allowed_breaks and _LINE_BREAK.search(value)):
            return f"{column} contains a control character or line break"
        if column in FORMULA_CHECKED and value.startswith(FORMULA_START):
            return (f"{column} {value!r} starts with {value[0]!r}: refused, a spreadsheet would run it as a "
                    "formula (CSV injection)")
    email_cell = row.get("email")
    if email_cell is None:
        return "missing email"
    email = normalize_identity(email_cell)
    if not EMAIL.match(email):
        return f"{email_cell!r} is not an email address"
    ref = row.get("achievement")
    if ref is None:
        return "missing achievement"
    achievement = catalog.by_ref.get(ref)
    if achievement is None:
        return f"unknown achievement {ref!r}"
    did = row.get("did")
    if did is not None and not _DID.match(did):
        return f"did {did!r} is not a DID (did:method:identifier)"
    evidence: dict = {}
    url = row.get("evidence_url")
    if url is not None:
        problem = _check_url(url)
        if problem:
            return problem
        evidence["id"] = url
    for column, key in (("evidence_name", "name"), ("evidence_narrative", "narrative")):
        if row.get(column) is not None:
            evidence[key] = row.get(column)
    results: dict = {}
    rd_id, value = row.get("result_description"), row.get("result_value")
    if rd_id is not None:
        descriptions = {d.get("id"): d for d in achievement.result_descriptions or [] if isinstance(d, dict)}
        description = descriptions.get(rd_id)
        if description is None:
            known = ", ".join(repr(k) for k in descriptions if k) or "none"
            return (f"unknown result description {rd_id!r} for achievement {achievement.slug!r} "
                    f"(it has: {known})")
        results["resultDescription"] = rd_id
        allowed = description.get("allowedValue")
        if value is not None and isinstance(allowed, list) and allowed and value not in allowed:
            return (f"result_value {value!r} is not one of the values {rd_id!r} allows "
                    f"({', '.join(map(str, allowed))})")
    if value is not None:
        if rd_id is None:
            return "result_value is given without result_description"
        results["value"] = value
    awarded = None
    if row.get("awarded_date") is not None:
        awarded = _parse_awarded(row.get("awarded_date"), now)
        if isinstance(awarded, str):
            return awarded
    if achievement.validity_months:
        until = add_months(awarded or now, achievement.validity_months)
        if until <= now:
            return (f"the award would already have expired on {until.date().isoformat()} "
                    f"({achievement.slug!r} is valid for {achievement.validity_months} months)")
    request = AwardRequest(achievement=ref, email=email, name=row.get("name"),
                           employee_id=row.get("employee_id"), did=did,
                           evidence=(evidence,) if evidence else (), results=(results,) if results else (),
                           awarded_at=awarded, external_id=row.get("external_id"))
    return request, achievement


# --------------------------------------------------------------------------- validation

def _existing_awards(session: Session, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
    """external_key -> (award id, issuer id), for the keys already issued."""
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(keys), _IN_BATCH):
        batch = keys[start:start + _IN_BATCH]
        for key, award_id, issuer_id in session.execute(select(Award.external_key, Award.id, Award.issuer_id)
                                                        .where(Award.external_key.in_(batch))):
            found[key] = (award_id, issuer_id)
    return found


def _parse(raw: bytes, catalog: _Catalog, now: datetime) -> ValidationReport:
    report = ValidationReport()
    text, undecodable = _decode(raw)
    records = _records(text)
    try:
        header = next(records, None)
        if header is None:
            report.problems.append(RowProblem(1, "the file is empty: it needs a header row naming its columns "
                                                 f"(at least {', '.join(REQUIRED)})"))
            return report
        first, last, cells = header
        bad = [undecodable[n] for n in range(first, last + 1) if n in undecodable]
        positions, problems = _header(cells) if not bad else ({}, bad[:1])
        width = max(positions.values(), default=-1) + 1
        if problems:
            report.problems.extend(RowProblem(first, p) for p in problems)
            return report
        seen_keys: dict[str, int] = {}
        people: dict[str, dict[str, tuple[str, int]]] = {}   # email -> column -> (value, line)
        for first, last, cells in records:
            report.total_rows += 1
            if report.total_rows > MAX_ROWS:
                report.total_rows -= 1
                report.problems.append(RowProblem(first, f"too many rows: a file may hold at most {MAX_ROWS:,} "
                                                         "awards; split it into smaller files"))
                break
            bad = [undecodable[n] for n in range(first, last + 1) if n in undecodable]
            if bad:
                report.problems.append(RowProblem(first, bad[0]))
                continue
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                report.problems.append(RowProblem(first, f"has {len(cells)} cells but the header names "
                                                         f"{width} columns"))
                continue
            checked = _check_row(_Row(cells, positions), catalog, now)
            if isinstance(checked, str):
                report.problems.append(RowProblem(first, checked))
                continue
            request, achievement = checked
            key = request.external_key()
            # the same award named once by slug and once by id is a duplicate too
            same = key if request.external_id else replace(request, achievement=achievement.id).external_key()
            if key in seen_keys or same in seen_keys:
                why = "the same external_id" if request.external_id else \
                    "same recipient, achievement, evidence, result and date"
                report.problems.append(RowProblem(first, f"duplicate of line {seen_keys.get(key) or seen_keys[same]} "
                                                         f"({why})"))
                continue
            conflict = _conflict(people.setdefault(request.email, {}), request, first)
            if conflict:
                report.problems.append(RowProblem(first, conflict))
                continue
            seen_keys[key] = seen_keys[same] = first
            report.rows.append(BulkRow(first, request, achievement.id, key))
    except _CsvError as exc:
        report.problems.append(RowProblem(exc.line, exc.reason))
    return report


def _conflict(person: dict[str, tuple[str, int]], request: AwardRequest, line: int) -> str | None:
    """Two rows for the same email must not disagree about the person's name, employee id or DID."""
    given = {column: getattr(request, column) for column in ("name", "employee_id", "did")
             if getattr(request, column) is not None}
    for column, value in given.items():
        if column in person and person[column][0] != value:
            other, other_line = person[column]
            return f"{column} {value!r} differs from {other!r} given for {request.email} on line {other_line}"
    for column, value in given.items():
        person.setdefault(column, (value, line))
    return None


def validate_csv(source: str | os.PathLike | bytes, session: Session, issuer: Issuer, *,
                 now: datetime | None = None) -> ValidationReport:
    """Check every row of a bulk file without issuing anything (a dry run).

    ``source`` is a path, or the file's content as bytes (or as a str containing a line
    break). Every bad row is reported with its line number and a plain reason; valid rows
    are returned ready to issue, and the ones already issued are counted.
    """
    now = (now or utcnow()).astimezone(UTC)
    raw, _name = _read_source(source)
    if len(raw) > MAX_FILE_BYTES:
        raise BulkInputError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB (split it)",
                             code="too_large")
    report = _parse(raw, _Catalog.load(session, issuer), now)
    existing = _existing_awards(session, [r.key for r in report.rows])
    foreign = {row.line for row in report.rows if row.key in existing and existing[row.key][1] != issuer.id}
    for row in report.rows:
        if row.line in foreign:
            report.problems.append(RowProblem(row.line, (
                f"external_id {row.request.external_id!r} is already used by an award of another issuer"
                if row.request.external_id else "an award of another issuer has the same idempotency key (same "
                "email, achievement, evidence, result and date); give this row an external_id")))
    report.rows = [row for row in report.rows if row.line not in foreign]
    report.problems.sort(key=lambda p: p.line)
    report.existing_keys = {row.key for row in report.rows if row.key in existing}
    report.already_issued = sum(1 for row in report.rows if row.key in existing)
    return report


# --------------------------------------------------------------------------- signing (worker side)

@dataclass(frozen=True)
class _SignerSetup:
    """What a signer needs; no secrets: each signer loads the private key from the keys folder."""

    settings: Settings
    issuer: dict                          # Issuer column values
    key_file: str                         # path of the current key's JWK file
    key_multibase: str                    # its public key, as the database records it
    verification_method: str
    achievements: dict                    # achievement id -> column values
    now: datetime


_Job = tuple  # (award id, achievement id, email, did, evidence, results, awarded, valid_until, status entries)


class _Signer:
    """Builds, signs and self-verifies credentials, as issue_award does; one per process."""

    def __init__(self, setup: _SignerSetup):
        self.setup = setup
        pair = load_key(setup.key_file)
        if pair.public.to_multibase() != setup.key_multibase:
            raise IssuanceError(f"the key file {setup.key_file} does not hold the key the database records",
                                code="key_mismatch")
        self.pair = pair
        issuer = Issuer(**setup.issuer)
        self.ctx = IssuerContext(setup.settings, issuer)
        self.profile = profile(issuer, setup.settings)
        self.achievements = {ident: Achievement(**columns) for ident, columns in setup.achievements.items()}
        self.documents_version = -1

    def use_documents(self, version: int, documents: dict) -> None:
        if version != self.documents_version:
            self.ctx.documents = dict(documents)
            self.ctx.memo = {}
            self.documents_version = version

    def sign(self, job: _Job) -> str:
        award_id, achievement_id, email, did, evidence, results, awarded, valid_until, entries = job
        award = Award(id=award_id, evidence=list(evidence), results=list(results), awarded_at=awarded,
                      valid_from=awarded, valid_until=valid_until)
        credential = build_credential(self.setup.settings, self.profile, self.achievements[achievement_id],
                                      Recipient(email=email, did=did), award, list(entries))
        signed = sign_credential(credential, self.pair, verification_method=self.setup.verification_method,
                                 engine=self.ctx.engine)
        self_check(signed, self.ctx, self.setup.now)
        return json.dumps(signed, ensure_ascii=False)

    def sign_batch(self, version: int, documents: dict, jobs: list[_Job]) -> list[str] | tuple[str, str]:
        """The credentials as JSON text, or (code, message) of the first failure."""
        self.use_documents(version, documents)
        try:
            return [self.sign(job) for job in jobs]
        except CredentialError as exc:
            return (exc.code, str(exc))


_worker: _Signer | None = None


def _init_worker(setup: _SignerSetup) -> None:
    global _worker
    import multiprocessing
    import threading

    parent = multiprocessing.parent_process()
    if parent is not None:   # a worker whose parent was killed would otherwise wait for work forever
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True, name="exit-with-parent").start()
    _worker = _Signer(setup)


def _exit_with(sentinel: int) -> None:
    from multiprocessing.connection import wait

    wait([sentinel])
    os._exit(1)


def _worker_sign_batch(version: int, documents: dict, jobs: list[_Job]) -> list[str] | tuple[str, str]:
    if _worker is None:
        raise RuntimeError("the worker was not initialised")
    return _worker.sign_batch(version, documents, jobs)


class _Done:
    """A finished batch signed in this process (no pool)."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value

    def cancel(self) -> bool:
        return False


# --------------------------------------------------------------------------- issuing (main side)

@dataclass
class _List:
    id: int
    purpose: str
    size: int
    url: str

    @property
    def cap(self) -> int:
        return self.size * 3 // 4         # the same limit as status_lists.open_list


@dataclass
class _Planned:
    row: BulkRow
    award_id: str
    awarded: datetime
    valid_until: datetime | None
    did: str | None                       # the recipient's DID as the credential names it
    indexes: dict                         # list id -> index


@dataclass
class _Chunk:
    rows: list[BulkRow]
    existing: dict[str, str]              # key -> award id, issued before
    planned: list[_Planned]
    batches: list = field(default_factory=list)
    attempt: int = 1


class _Conflict(Exception):
    """Someone else changed what a chunk was planned on: plan it again."""


class _NeedNewList(Exception):
    pass


MAX_ATTEMPTS = 5


class _Run:
    def __init__(self, session_factory, settings: Settings, issuer_id: str, report: ValidationReport, *,
                 actor: str, source: str, now: datetime, chunk_size: int, workers: int | None,
                 progress: ProgressCallback | None):
        self.session_factory = session_factory
        self.settings = settings
        self.issuer_id = issuer_id
        self.report = report
        self.actor = actor
        self.source = source
        self.now = now
        self.chunk_size = max(1, chunk_size)
        self.progress = progress
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self.local: _Signer | None = None
        self.reserved: dict[int, set[int]] = {}      # list id -> indexes of planned, uncommitted chunks
        self.stored: dict[int, set[int]] = {}        # list id -> indexes stored (as last read, plus this run's)
        self.documents: dict = {}
        self.documents_version = 0
        self.lists: dict[str, _List] = {}
        self.slugs: dict[str, str] = {}
        self.vm = ""
        self.file_dids = {}
        for row in report.rows:
            if row.request.did:
                self.file_dids[row.request.email] = row.request.did
        self.result = BulkResult(report, started=True)
        self.done = 0

    # ---- setup

    def _load_context(self, session: Session) -> tuple[Issuer, IssuerContext]:
        issuer = session.get(Issuer, self.issuer_id)
        ctx = IssuerContext.load(session, self.settings, issuer)   # opens and publishes lists if needed
        self.documents = {url: json.dumps(doc).encode("utf-8") for url, doc in ctx.documents.items()}
        self.documents_version += 1
        self.lists = {p: _List(ctx.lists[p].id, p, ctx.lists[p].size, list_url(self.settings, ctx.lists[p]))
                      for p in PURPOSES}
        return issuer, ctx

    def _setup(self) -> _SignerSetup:
        with self.session_factory() as session, session.begin():
            issuer, _ctx = self._load_context(session)
            key_row, _pair = current_key(session, self.settings, issuer)
            self.vm = verification_method(issuer, key_row)
            needed = {row.achievement_id for row in self.report.rows}
            achievements = session.scalars(select(Achievement).where(Achievement.id.in_(needed))).all() \
                if len(needed) <= _IN_BATCH else \
                session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)).all()
            columns = [c.key for c in inspect(Achievement).column_attrs]
            self.slugs = {a.id: a.slug for a in achievements}
            return _SignerSetup(
                settings=self.settings,
                issuer={c.key: getattr(issuer, c.key) for c in inspect(Issuer).column_attrs},
                key_file=str(Path(self.settings.keys_dir) / key_row.key_file),
                key_multibase=key_row.public_multibase,
                verification_method=self.vm,
                achievements={a.id: {c: getattr(a, c) for c in columns} for a in achievements if a.id in needed},
                now=self.now)

    def _start_signers(self, setup: _SignerSetup, to_issue: int) -> None:
        workers = self.workers if to_issue else 0
        if workers is None:
            workers = 0 if to_issue < 64 else min(2, os.cpu_count() or 1)
        if workers <= 0:
            self.local = _Signer(setup)
            return
        self.pool_size = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=_process_context(),
                                        initializer=_init_worker, initargs=(setup,))

    # ---- planning: what to issue in a chunk, with which ids and status indexes

    def _used(self, session: Session, status_list: _List) -> set[int]:
        """The indexes of the list that are taken: stored (by anyone) or planned by this run.

        The stored ones are read once and then kept up to date with what this run stores; they
        are read again whenever the number stored shows that someone else allocated meanwhile.
        (Either way, the primary key of StatusAllocation is what makes a shared index impossible.)
        """
        stored = session.scalar(select(func.count()).select_from(StatusAllocation)
                                .where(StatusAllocation.list_id == status_list.id))
        known = self.stored.get(status_list.id)
        if known is None or len(known) != stored:
            known = self.stored[status_list.id] = set(session.scalars(
                select(StatusAllocation.index).where(StatusAllocation.list_id == status_list.id)))
        return known | self.reserved.get(status_list.id, set())

    def _plan(self, rows: list[BulkRow], *, may_cut: bool) -> _Chunk:
        with self.session_factory() as session, session.begin():
            self._check_key(session)
            existing = {}
            for key, (award_id, issuer_id) in _existing_awards(session, [r.key for r in rows]).items():
                if issuer_id != self.issuer_id:
                    raise IssuanceError("an award of another issuer has the idempotency key of line "
                                        f"{next(r.line for r in rows if r.key == key)}", code="bulk_conflict")
                existing[key] = award_id
            new = [r for r in rows if r.key not in existing]
            used = {p: self._used(session, self.lists[p]) for p in PURPOSES}
            room = min(self.lists[p].cap - len(used[p]) for p in PURPOSES)
            if len(new) > room:
                if not may_cut or room <= 0:
                    raise _NeedNewList()
                last = new[room - 1]
                rows = rows[:rows.index(last) + 1]
                new = new[:room]
            emails = sorted({r.request.email for r in new if r.request.email not in self.file_dids})
            db_dids: dict[str, str | None] = {}
            for start in range(0, len(emails), _IN_BATCH):
                db_dids.update(session.execute(select(Recipient.email, Recipient.did).where(
                    Recipient.issuer_id == self.issuer_id, Recipient.email.in_(emails[start:start + _IN_BATCH]))).all())
        planned = []
        for row in new:
            indexes = {}
            for purpose in PURPOSES:
                status_list = self.lists[purpose]
                taken = used[purpose]
                index = secrets.randbelow(status_list.size)
                while index in taken:
                    index = secrets.randbelow(status_list.size)
                taken.add(index)
                self.reserved.setdefault(status_list.id, set()).add(index)
                indexes[status_list.id] = index
            request = row.request
            awarded = request.awarded_at or self.now.replace(microsecond=0)
            months = self._validity_months(row.achievement_id)
            planned.append(_Planned(row, new_id(), awarded, add_months(awarded, months) if months else None,
                                    self.file_dids.get(request.email, db_dids.get(request.email)), indexes))
        return _Chunk(rows, existing, planned)

    def _validity_months(self, achievement_id: str) -> int | None:
        return self.setup.achievements[achievement_id].get("validity_months")

    def _check_key(self, session: Session) -> None:
        """Nothing is planned or stored with a key that is no longer the issuer's current one."""
        key_file = session.scalar(select(IssuerKey.key_file).where(IssuerKey.issuer_id == self.issuer_id,
                                                                    IssuerKey.state == "current"))
        if key_file is None or Path(self.setup.key_file).name != key_file:
            raise IssuanceError("the issuer's signing key changed during the run; the awards stored so far are "
                                "complete: run the file again to issue the rest with the new key", code="key_rotated")

    def _release(self, chunk: _Chunk) -> None:
        for planned in chunk.planned:
            for list_id, index in planned.indexes.items():
                self.reserved.get(list_id, set()).discard(index)

    # ---- signing

    def _jobs(self, chunk: _Chunk) -> list[_Job]:
        by_id = {status_list.id: status_list for status_list in self.lists.values()}
        jobs = []
        for p in chunk.planned:
            entries = [_entry(by_id[list_id], index) for list_id, index in p.indexes.items()]
            request = p.row.request
            jobs.append((p.award_id, p.row.achievement_id, request.email, p.did, request.evidence, request.results,
                         p.awarded, p.valid_until, entries))
        return jobs

    def _submit(self, chunk: _Chunk) -> None:
        jobs = self._jobs(chunk)
        if not jobs:
            return
        if self.pool is None:
            chunk.batches = [_Done(self.local.sign_batch(self.documents_version, self.documents, jobs))]
            return
        size = max(4, -(-len(jobs) // (self.pool_size * 4)))
        chunk.batches = [self.pool.submit(_worker_sign_batch, self.documents_version, self.documents,
                                          jobs[i:i + size]) for i in range(0, len(jobs), size)]

    def _credentials(self, chunk: _Chunk) -> list[str]:
        credentials: list[str] = []
        for batch in chunk.batches:
            try:
                outcome = batch.result()
            except BrokenProcessPool as exc:
                raise IssuanceError(f"a signing process stopped unexpectedly ({exc}); the awards stored so far "
                                    "are complete: run the file again to issue the rest",
                                    code="bulk_worker_died") from exc
            if isinstance(outcome, tuple):
                code, message = outcome
                raise IssuanceError(message, code=code)
            credentials.extend(outcome)
        return credentials

    # ---- writing: one transaction per chunk

    def _write(self, chunk: _Chunk, credentials: list[str]) -> None:
        stored_at = utcnow()
        with self.session_factory() as session, session.begin():
            self._check_key(session)
            recipient_ids = self._recipients(session, chunk, stored_at)
            if chunk.planned:
                session.execute(insert(Award.__table__), [{
                    "id": p.award_id, "issuer_id": self.issuer_id, "achievement_id": p.row.achievement_id,
                    "recipient_id": recipient_ids[p.row.request.email], "external_key": p.row.key,
                    "evidence": list(p.row.request.evidence), "results": list(p.row.request.results),
                    "awarded_at": p.awarded, "valid_from": p.awarded, "valid_until": p.valid_until,
                    "state": "active", "credential": credential, "created_at": stored_at,
                } for p, credential in zip(chunk.planned, credentials, strict=True)])
                session.execute(insert(StatusAllocation.__table__), [
                    {"list_id": list_id, "index": index, "award_id": p.award_id}
                    for p in chunk.planned for list_id, index in p.indexes.items()])
                session.execute(insert(AuditEntry.__table__), [{
                    "at": stored_at, "actor": self.actor, "action": "issue", "award_id": p.award_id,
                    "details": {"achievement": self.slugs.get(p.row.achievement_id), "key": self.vm,
                                "bulk": self.source, "line": p.row.line},
                } for p in chunk.planned])
                session.execute(insert(OutboxMessage.__table__), [
                    self._award_mail(p, credential, stored_at)
                    for p, credential in zip(chunk.planned, credentials, strict=True)])

    def _award_mail(self, p, credential: str, stored_at: datetime) -> dict:
        """The "awarded" email for a planned award, queued in the chunk's transaction (sent after commit)."""
        request = p.row.request
        mail = AwardMail(award_id=p.award_id, credential=credential, to_address=request.email,
                         to_name=request.name, valid_until=p.valid_until)
        return outbox_row(self.settings, mail, "awarded", stored_at)

    def _recipients(self, session: Session, chunk: _Chunk, stored_at: datetime) -> dict[str, str]:
        """email -> recipient id: found, updated or created as issue_award does (values given win)."""
        emails = sorted({p.row.request.email for p in chunk.planned})
        found = {}
        for start in range(0, len(emails), _IN_BATCH):
            for recipient in session.execute(select(
                    Recipient.id, Recipient.email, Recipient.name, Recipient.employee_id, Recipient.did).where(
                    Recipient.issuer_id == self.issuer_id, Recipient.email.in_(emails[start:start + _IN_BATCH]))):
                found[recipient.email] = recipient
        ids: dict[str, str] = {}
        new: dict[str, dict] = {}
        changes: dict[str, dict] = {}
        for p in chunk.planned:
            request = p.row.request
            given = {attr: getattr(request, attr) for attr in ("name", "employee_id", "did") if getattr(request, attr)}
            recipient = found.get(request.email)
            if recipient is None:
                values = new.setdefault(request.email, {"id": new_id(), "issuer_id": self.issuer_id,
                                                        "email": request.email, "name": None,
                                                        "employee_id": None, "did": None, "created_at": stored_at})
                values.update(given)
                ids[request.email] = values["id"]
                current_did = values["did"]
            else:
                ids[request.email] = recipient.id
                current = {"name": recipient.name, "employee_id": recipient.employee_id, "did": recipient.did}
                current.update(changes.get(recipient.id, {}))
                diff = {k: v for k, v in given.items() if current.get(k) != v}
                if diff:
                    changes.setdefault(recipient.id, {}).update(diff)
                current_did = given.get("did", current["did"])
            if current_did != p.did:
                raise _Conflict(f"the DID of {request.email} changed while the chunk was being signed")
        if new:
            session.execute(insert(Recipient.__table__), list(new.values()))
        for recipient_id, diff in changes.items():
            session.execute(update(Recipient).where(Recipient.id == recipient_id).values(**diff))
        return ids

    # ---- the whole run

    def _record(self, chunk: _Chunk) -> None:
        planned = {p.row.key: p for p in chunk.planned}
        for row in chunk.rows:
            if row.key in chunk.existing:
                award_id, created = chunk.existing[row.key], False
                self.result.already_issued += 1
            else:
                award_id, created = planned[row.key].award_id, True
                self.result.issued += 1
            self.result.awards.append(BulkAward(row.line, award_id, credential_url(self.settings, award_id), created))
        self.done += len(chunk.rows)
        if self.progress is not None:
            self.progress(self.done, len(self.report.rows))

    def _complete(self, chunk: _Chunk) -> None:
        """Wait for the chunk's credentials and store it; re-plan and retry on conflicts."""
        while True:
            try:
                credentials = self._credentials(chunk)
                self._write(chunk, credentials)
                for planned in chunk.planned:
                    for list_id, index in planned.indexes.items():
                        if list_id in self.stored:
                            self.stored[list_id].add(index)
                self._release(chunk)
                self._record(chunk)
                return
            except (IntegrityError, OperationalError, _Conflict) as exc:
                self._release(chunk)
                if isinstance(exc, OperationalError) and not _is_busy(exc):
                    raise
                if chunk.attempt >= MAX_ATTEMPTS:
                    raise IssuanceError(f"could not store a chunk of {len(chunk.rows)} awards after "
                                        f"{MAX_ATTEMPTS} attempts ({exc}); nothing of it was stored, run the "
                                        "file again to issue the rest", code="bulk_conflict") from exc
                try:
                    retry = self._plan(chunk.rows, may_cut=False)
                except _NeedNewList:
                    raise IssuanceError("the status lists filled up while this chunk was issued; run the file "
                                        "again to issue the rest", code="bulk_conflict") from exc
                retry.attempt = chunk.attempt + 1
                self._submit(retry)
                chunk = retry

    def _new_lists(self) -> None:
        with self.session_factory() as session, session.begin():
            self._load_context(session)

    def execute(self) -> BulkResult:
        rows = self.report.rows
        if not rows:
            return self.result
        self.setup = self._setup()
        self._start_signers(self.setup, self.report.to_issue)
        if self.progress is not None:
            self.progress(0, len(rows))
        pending: list[_Chunk] = []
        position = 0
        try:
            while position < len(rows) or pending:
                if position < len(rows) and len(pending) < 2:
                    try:
                        chunk = self._plan(rows[position:position + self.chunk_size], may_cut=True)
                    except _NeedNewList:
                        if pending:                  # let the chunks in flight finish on the old lists
                            self._complete(pending.pop(0))
                        else:
                            self._new_lists()
                        continue
                    self._submit(chunk)
                    pending.append(chunk)
                    position += len(chunk.rows)
                    if len(pending) < 2 and position < len(rows):
                        continue
                self._complete(pending.pop(0))
        except BaseException:
            for chunk in pending:
                for batch in chunk.batches:
                    batch.cancel()
            raise
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)
        return self.result


def _process_context():
    """How to start the signing processes.

    ``fork`` when this process runs a single thread: the workers start at once with every
    module already imported (ProcessPoolExecutor forks all of them before starting its own
    thread; they never touch the inherited database connections and leave with os._exit).
    With other threads running, forking could copy a lock some thread holds, so a fork
    server (with this module preloaded) or ``spawn`` is used instead.
    """
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def _entry(status_list: _List, index: int) -> dict:
    return {"id": f"{status_list.url}#{index}", "type": "BitstringStatusListEntry",
            "statusPurpose": status_list.purpose, "statusListIndex": str(index),
            "statusListCredential": status_list.url}


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return "locked" in text or "busy" in text or "deadlock" in text


def issue_csv(path: str | os.PathLike | bytes, session_factory, settings: Settings, issuer_did: str, *,
              actor: str, progress: ProgressCallback | None = None, chunk_size: int = 500,
              workers: int | None = None, now: datetime | None = None,
              source_name: str | None = None) -> BulkResult:
    """Issue every row of a bulk file; nothing at all if any row is bad (see ``result.report``).

    ``session_factory()`` gives new sessions (e.g. ``issuer.db.engine.session_factory(engine)``).
    One transaction per chunk of ``chunk_size`` rows. ``progress(done, total)`` is called
    with the rows handled so far (issued or already issued) after each chunk is stored.
    ``workers``: processes that build, sign and self-verify (default: up to 2 for large
    files, none for small ones; 0 = in this process). ``source_name``: the file's name for the
    audit log when ``path`` is its content (an upload).
    """
    started = time.monotonic()
    now = (now or utcnow()).astimezone(UTC)
    raw, name = _read_source(path)
    name = source_name or name
    with session_factory() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.did == issuer_did)).one_or_none()
        if issuer is None:
            raise IssuanceError(f"no issuer is set up for {issuer_did}; run 'microcred init'", code="not_initialized")
        report = validate_csv(raw, session, issuer, now=now)
        issuer_id = issuer.id
    if not report.ok:
        return BulkResult(report, started=False, seconds=time.monotonic() - started)
    run = _Run(session_factory, settings, issuer_id, report, actor=actor, source=name, now=now,
               chunk_size=chunk_size, workers=workers, progress=progress)
    result = run.execute()
    result.seconds = time.monotonic() - started
    return result
