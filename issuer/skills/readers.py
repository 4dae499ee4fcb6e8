"""Reading a framework's published skills download (CSV or tab-separated) into catalogue rows. Pure.

    result = read_skills(data)          # bytes of the file
    result.format                       # CsvFormat.ESCO / ONET / OWN, told from the header
    result.skills                       # SkillRow(line, url, name, description, code), file order
    result.problems                     # RowProblem(line, reason): one per bad row

Three formats, told apart by their header (column names in any case and order; other columns
are ignored), documented for HR in ``docs/skills-csv.md``:

=========  ===========================================  =========================================
format     columns used                                 a skill is
=========  ===========================================  =========================================
ESCO       ``conceptUri``, ``preferredLabel``,          one row; ``conceptUri`` is its URL
           ``description`` (else ``definition``)
O*NET      ``Element ID``, ``Element Name``,            one element (files such as Skills.txt
           ``Description``                              repeat it per occupation and scale); URL
                                                        ``https://www.onetonline.org/find/descriptor/
                                                        result/<Element ID>``, code = the id
own list   ``url``, ``name`` (required),                one row
           ``description``, ``code``
=========  ===========================================  =========================================

The delimiter is a comma, a tab (O*NET's ``.txt`` downloads) or a semicolon (spreadsheets in
some locales), whichever the header uses. UTF-8 only (a BOM is fine). The file may be at most
:data:`MAX_FILE_BYTES` and hold :data:`MAX_ROWS` data rows and :data:`MAX_SKILLS` skills. Python's
``csv`` module does the parsing; what is written here is only the mapping of each format's
columns and the checks of each row.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from issuer.errors import InvalidInput

MAX_FILE_BYTES = 32 * 1024 * 1024       # ESCO's skills_en.csv is about 10 MiB
MAX_ROWS = 200_000                      # data rows (O*NET's Skills.txt has about 62,000)
MAX_SKILLS = 50_000                     # distinct skills (ESCO has about 14,000)
MAX_PROBLEMS = 200                      # bad rows listed (the count is always given)
MAX_CELL = 20_000                       # characters in one cell (csv's own limit is 131,072)
URL_LENGTH, NAME_LENGTH, CODE_LENGTH, DESCRIPTION_LENGTH = 1024, 512, 255, 5_000
HTTP_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
ONET_URL = "https://www.onetonline.org/find/descriptor/result/{}"
ONET_ID = re.compile(r"^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$")


class CsvFormat(StrEnum):
    """The skills downloads :func:`read_skills` understands."""

    ESCO = "esco"
    ONET = "onet"
    OWN = "own"

    @property
    def label(self) -> str:
        return {"esco": "ESCO skills", "onet": "O*NET", "own": "your own list"}[self.value]


class FileProblem(StrEnum):
    """Why a whole file is refused (:class:`SkillsFileError` ``code``); a bad row is a :class:`RowProblem`."""

    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    BAD_CSV = "bad_csv"
    EMPTY = "empty"
    UNKNOWN_FORMAT = "unknown_format"
    TOO_MANY_ROWS = "too_many_rows"
    TOO_MANY_SKILLS = "too_many_skills"


#: format -> (required columns, optional columns), lower-case
COLUMNS: dict[CsvFormat, tuple[tuple[str, ...], tuple[str, ...]]] = {
    CsvFormat.ESCO: (("concepturi", "preferredlabel"), ("description", "definition")),
    CsvFormat.ONET: (("element id", "element name"), ("description",)),
    CsvFormat.OWN: (("url", "name"), ("description", "code")),
}


#: format -> its columns as the publisher spells them (for people)
HEADINGS: dict[CsvFormat, tuple[str, ...]] = {
    CsvFormat.ESCO: ("conceptUri", "preferredLabel", "description"),
    CsvFormat.ONET: ("Element ID", "Element Name", "Description"),
    CsvFormat.OWN: ("url", "name", "description", "code"),
}


class SkillsFileError(InvalidInput):
    """The file as a whole cannot be read (size, encoding, header); bad rows are :class:`RowProblem` s."""

    default_code = "skills_file_invalid"


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class SkillRow:
    line: int
    url: str
    name: str
    description: str | None
    code: str | None


@dataclass
class ReadResult:
    format: CsvFormat
    skills: list[SkillRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    bad_rows: int = 0                   # every bad row (problems lists the first MAX_PROBLEMS)
    rows: int = 0                       # data rows read (blank lines skipped)

    def problem(self, line: int, reason: str) -> None:
        self.bad_rows += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(RowProblem(line, reason))


# ---------------------------------------------------------------- the file

def _text(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise SkillsFileError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; "
                              "split it into several files (each is imported into the same framework).",
                              code=FileProblem.TOO_LARGE)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise SkillsFileError(f"Line {line} is not UTF-8 text; save the file as \"CSV UTF-8\".",
                              code=FileProblem.NOT_UTF8) from None


def _delimiter(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (",", "\t", ";")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) per record; a record that is not valid CSV raises SkillsFileError with its line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SkillsFileError(f"Line {reader.line_num} is not readable as CSV ({exc}); check its quotes.",
                                  code=FileProblem.BAD_CSV) from None
        yield line, cells
        line = reader.line_num + 1


def _column(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().strip('"').lower()


def detect_format(header: list[str]) -> tuple[CsvFormat, dict[str, int]]:
    """The format a header belongs to, and column -> position (first occurrence)."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(_column(name), index)
    for fmt, (required, _optional) in COLUMNS.items():
        if all(column in positions for column in required):
            return fmt, positions
    raise SkillsFileError(
        "The first line does not name the columns of a skills file this importer knows: ESCO "
        "(conceptUri, preferredLabel, description), O*NET (Element ID, Element Name, Description) or "
        f"your own list (url, name, description, code). It has: {', '.join(h.strip() for h in header[:12])[:300]}.",
        code=FileProblem.UNKNOWN_FORMAT)


# ---------------------------------------------------------------- one row

def _cell(cells: list[str], positions: dict[str, int], column: str) -> str:
    index = positions.get(column)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _row(fmt: CsvFormat, cells: list[str], positions: dict[str, int]) -> tuple[str, str, str, str]:
    """(url, name, description, code) of a row, not yet checked."""
    def get(column: str) -> str:
        return _cell(cells, positions, column)

    if fmt is CsvFormat.ESCO:
        return get("concepturi"), get("preferredlabel"), get("description") or get("definition"), ""
    if fmt is CsvFormat.ONET:
        element = get("element id")
        url = ONET_URL.format(element) if element and ONET_ID.match(element) else ""
        return url, get("element name"), get("description"), element
    return get("url"), get("name"), get("description"), get("code")


def _check(fmt: CsvFormat, url: str, name: str, description: str, code: str) -> str | None:
    """Why the row cannot be a skill (None: it can)."""
    key = {CsvFormat.ESCO: "conceptUri", CsvFormat.ONET: "Element ID", CsvFormat.OWN: "url"}[fmt]
    label = {CsvFormat.ESCO: "preferredLabel", CsvFormat.ONET: "Element Name", CsvFormat.OWN: "name"}[fmt]
    if not url:
        if fmt is CsvFormat.ONET and code:
            return f"the Element ID {code[:40]!r} is not an O*NET element id (e.g. 2.A.1.a)"
        return f"the {key} is empty"
    if len(url) > URL_LENGTH or not HTTP_URL.match(url):
        return f"the {key} {url[:80]!r} is not an http(s) URL of at most {URL_LENGTH} characters"
    if not name:
        return f"the {label} is empty"
    if len(name) > NAME_LENGTH:
        return f"the {label} is longer than {NAME_LENGTH} characters"
    if len(code) > CODE_LENGTH:
        return f"the code is longer than {CODE_LENGTH} characters"
    if len(description) > DESCRIPTION_LENGTH:
        return f"the description is longer than {DESCRIPTION_LENGTH} characters"
    if any(unicodedata.category(ch) == "Cc" for ch in name + code):
        return "the name or code contains control characters"
    return None


# ---------------------------------------------------------------- the whole file

def read_skills(data: bytes) -> ReadResult:
    """Every skill of a framework download, and a problem per bad row (see the module docstring).

    Raises :class:`SkillsFileError` when the file as a whole cannot be read."""
    text = _text(data)
    first_line = text.split("\n", 1)[0]
    records = _records(text, _delimiter(first_line))
    header: list[str] | None = None
    for _line, cells in records:
        if any(c.strip() for c in cells):
            header = cells
            break
    if header is None:
        raise SkillsFileError("The file is empty: it needs a header line and one line per skill.",
                              code=FileProblem.EMPTY)
    fmt, positions = detect_format(header)
    result = ReadResult(fmt)
    seen: dict[str, SkillRow] = {}
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        result.rows += 1
        if result.rows > MAX_ROWS:
            raise SkillsFileError(f"The file has more than {MAX_ROWS:,} rows; split it.",
                                  code=FileProblem.TOO_MANY_ROWS)
        if any(len(c) > MAX_CELL for c in cells):
            result.problem(line, f"a cell is longer than {MAX_CELL:,} characters")
            continue
        url, name, description, code = _row(fmt, cells, positions)
        reason = _check(fmt, url, name, description, code)
        if reason:
            result.problem(line, reason)
            continue
        earlier = seen.get(url)
        if earlier is not None:
            if fmt is not CsvFormat.ONET and earlier.name != name:     # O*NET repeats elements by design
                result.problem(line, f"the skill {url[:80]} is on line {earlier.line} already, named "
                                     f"{earlier.name[:60]!r}")
            continue
        if len(seen) >= MAX_SKILLS:
            raise SkillsFileError(f"The file has more than {MAX_SKILLS:,} skills; split it.",
                                  code=FileProblem.TOO_MANY_SKILLS)
        seen[url] = SkillRow(line, url, name, description or None, code or None)
    if not seen and not result.bad_rows:
        raise SkillsFileError("The file has a header but no skills.", code=FileProblem.EMPTY)
    result.skills = list(seen.values())
    return result
