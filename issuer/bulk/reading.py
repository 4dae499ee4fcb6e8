"""Reading a bulk CSV file (the format is in ``docs/bulk-csv.md``): every row checked, nothing issued.

    report = validate_csv("awards.csv", session, issuer, now=now)   # a dry run
    for problem in report.problems:
        print(problem)                                               # "line 7: There is no achievement 'x'."

Each row becomes the same JSON-like body the REST API takes (:func:`row_body`) and goes through
the one rule set (:mod:`issuer.awards.rules`), named with the file's column names
(:data:`CSV_LABELS`): a row valid here is a valid API request, and the reverse. What only a
file can get wrong is checked here: its encoding, CSV syntax and header, its size, and rows
that repeat another row or disagree with another row about the same person.
"""
from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.awards.request import AwardRequest
from issuer.awards.rules import AwardRuleError, Catalog, Labels, award_request, check_award
from issuer.bulk.limits import MAX_FILE_BYTES, MAX_ROWS, BulkMode
from issuer.db.models import Award, Issuer, utcnow
from issuer.errors import InvalidInput

COLUMNS = ("email", "name", "employee_id", "did", "achievement", "evidence_url", "evidence_narrative",
           "evidence_name", "result_description", "result_value", "awarded_date", "external_id")
REQUIRED = ("email", "achievement")
CSV_LABELS = Labels({"evidence.id": "evidence_url", "evidence.narrative": "evidence_narrative",
                     "evidence.name": "evidence_name", "results.resultDescription": "result_description",
                     "results.value": "result_value", "awarded_at": "awarded_date", "external_id": "external_id",
                     "email": "email", "name": "name", "employee_id": "employee_id", "did": "did",
                     "achievement": "achievement", "evidence": "evidence", "results": "result_description"})
_NEWLINES = re.compile(rb"\r\n|\r|\n")
IN_BATCH = 500                           # ids per IN (...) query


class BulkInputError(InvalidInput):
    default_code = "bulk_input_invalid"


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class RowProblem:
    """One bad row (or a problem with the whole file: ``line`` 1 is the header)."""

    line: int
    reason: str
    whole_file: bool = False              # about the file as a whole (header, CSV syntax, size): no row is issuable

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
    def fatal(self) -> bool:
        """A problem with the file as a whole: nothing can be issued from it, in any mode."""
        return any(p.whole_file for p in self.problems)

    def issuable(self, mode: BulkMode) -> bool:
        """Whether a run in ``mode`` issues this file's valid rows (all-or-nothing: only when every row is good)."""
        return self.ok or (mode is BulkMode.VALID_ROWS and not self.fatal)

    @property
    def to_issue(self) -> int:
        return len(self.rows) - self.already_issued

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


# --------------------------------------------------------------------------- reading

def read_source(source: str | os.PathLike[str] | bytes) -> tuple[bytes, str]:
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


def header_columns(raw: bytes) -> list[str]:
    """The known columns the file's header names, in the file's order ([] without a readable header)."""
    text, _undecodable = _decode(raw)
    try:
        header = next(_records(text), None)
    except _CsvError:
        return []
    if header is None:
        return []
    positions, _problems = _header(header[2])
    return sorted(positions, key=positions.__getitem__)


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


# --------------------------------------------------------------------------- checking rows

def row_body(cells: dict[str, str | None]) -> tuple[dict[str, Any], str | None]:
    """(the API body, the external id) of a row's cells (column -> trimmed text, None when empty)."""
    body: dict[str, Any] = {column: cells[column] for column in ("email", "name", "employee_id", "did", "achievement")
                            if cells.get(column) is not None}
    evidence = {key: cells[column] for column, key in (("evidence_url", "id"), ("evidence_name", "name"),
                                                        ("evidence_narrative", "narrative"))
                if cells.get(column) is not None}
    if evidence:
        body["evidence"] = [evidence]
    result = {key: cells[column] for column, key in (("result_description", "resultDescription"),
                                                      ("result_value", "value")) if cells.get(column) is not None}
    if result:
        body["results"] = [result]
    if cells.get("awarded_date") is not None:
        body["awarded_at"] = cells["awarded_date"]
    return body, cells.get("external_id")


def check_row(cells: dict[str, str | None], catalog: Catalog, now: datetime) -> tuple[AwardRequest, str] | str:
    """(the request, its achievement's id), or why the row is refused: the API's rules, in the file's words."""
    body, external_id = row_body(cells)
    try:
        request, _jwt = award_request(body, external_id, now=now, labels=CSV_LABELS)
        achievement = check_award(request, catalog, now=now, labels=CSV_LABELS)
    except AwardRuleError as exc:
        return exc.message
    return request, achievement.id


def existing_awards(session: Session, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
    """external_key -> (award id, issuer id), for the keys already issued."""
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(keys), IN_BATCH):
        batch = keys[start:start + IN_BATCH]
        for key, award_id, issuer_id in session.execute(select(Award.external_key, Award.id, Award.issuer_id)
                                                        .where(Award.external_key.in_(batch))):
            found[key] = (award_id, issuer_id)
    return found


def _parse(raw: bytes, catalog: Catalog, now: datetime) -> ValidationReport:
    report = ValidationReport()
    text, undecodable = _decode(raw)
    records = _records(text)
    try:
        header = next(records, None)
        if header is None:
            report.problems.append(RowProblem(1, "the file is empty: it needs a header row naming its columns "
                                                 f"(at least {', '.join(REQUIRED)})", whole_file=True))
            return report
        first, last, cells = header
        bad = [undecodable[n] for n in range(first, last + 1) if n in undecodable]
        positions, problems = _header(cells) if not bad else ({}, bad[:1])
        width = max(positions.values(), default=-1) + 1
        if problems:
            report.problems.extend(RowProblem(first, p, whole_file=True) for p in problems)
            return report
        seen_keys: dict[str, int] = {}
        people: dict[str, dict[str, tuple[str, int]]] = {}   # email -> column -> (value, line)
        for first, last, cells in records:
            report.total_rows += 1
            if report.total_rows > MAX_ROWS:
                report.total_rows -= 1
                report.problems.append(RowProblem(first, f"too many rows: a file may hold at most {MAX_ROWS:,} "
                                                         "awards; split it into smaller files", whole_file=True))
                break
            bad = [undecodable[n] for n in range(first, last + 1) if n in undecodable]
            if bad:
                report.problems.append(RowProblem(first, bad[0]))
                continue
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                report.problems.append(RowProblem(first, f"has {len(cells)} cells but the header names "
                                                         f"{width} columns"))
                continue
            row = {column: (cells[index].strip() or None) if index < len(cells) else None
                   for column, index in positions.items()}
            checked = check_row(row, catalog, now)
            if isinstance(checked, str):
                report.problems.append(RowProblem(first, checked))
                continue
            request, achievement_id = checked
            key = request.external_key()
            # the same award named once by slug and once by id is a duplicate too
            same = key if request.external_id else replace(request, achievement=achievement_id).external_key()
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
            report.rows.append(BulkRow(first, request, achievement_id, key))
    except _CsvError as exc:
        report.problems.append(RowProblem(exc.line, exc.reason, whole_file=True))
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


def validate_csv(source: str | os.PathLike[str] | bytes, session: Session, issuer: Issuer, *,
                 now: datetime | None = None) -> ValidationReport:
    """Check every row of a bulk file without issuing anything (a dry run).

    ``source`` is a path, or the file's content as bytes (or as a str containing a line
    break). Every bad row is reported with its line number and a plain reason; valid rows
    are returned ready to issue, and the ones already issued are counted.
    """
    now = (now or utcnow()).astimezone(UTC)
    raw, _name = read_source(source)
    if len(raw) > MAX_FILE_BYTES:
        raise BulkInputError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB (split it)",
                             code="too_large")
    report = _parse(raw, Catalog.load(session, issuer), now)
    existing = existing_awards(session, [r.key for r in report.rows])
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
