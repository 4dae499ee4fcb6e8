"""docs/bulk-csv.md, the console's upload page and the code state the same bulk limits."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from issuer.bulk import jobs, limits, reading
from issuer.web.api import common as api_common
from tests.admin_support import Console, add_staff, console_app, page_text

DOC = Path(__file__).resolve().parents[3] / "docs" / "bulk-csv.md"


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_the_document_states_the_limits_of_the_code():
    doc = DOC.read_text(encoding="utf-8")
    stated = re.search(r"At most ([\d,]+) rows per file; a file of at most (\d+) MiB on the command line, "
                       r"(\d+) MiB uploaded to the console or the REST API", doc)
    assert stated, "docs/bulk-csv.md no longer states the limits in its sentence"
    assert _number(stated.group(1)) == limits.MAX_ROWS
    assert int(stated.group(2)) == limits.mib(limits.MAX_FILE_BYTES)
    assert int(stated.group(3)) == limits.mib(limits.MAX_UPLOAD_BYTES)
    too_many = re.search(r"`too many rows: a file may hold at most ([\d,]+) awards`", doc)
    assert too_many and _number(too_many.group(1)) == limits.MAX_ROWS
    people = re.search(r"up to (\d+) people at once", doc)
    assert people and int(people.group(1)) == limits.MAX_PEOPLE
    benchmark = 10_000                                                   # "Speed": the rows bench_bulk.py issues
    for number in re.findall(r"(\d[\d,]*) (?:rows|MiB)\b", doc):         # no other figure for a limit
        assert _number(number) in {limits.MAX_ROWS, limits.mib(limits.MAX_FILE_BYTES),
                                   limits.mib(limits.MAX_UPLOAD_BYTES), benchmark}, number


def test_every_part_uses_the_one_source():
    assert reading.MAX_ROWS is limits.MAX_ROWS and reading.MAX_FILE_BYTES is limits.MAX_FILE_BYTES
    assert jobs.MAX_UPLOAD_BYTES is limits.MAX_UPLOAD_BYTES and api_common.BULK_LIMIT is limits.MAX_UPLOAD_BYTES


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_console_states_the_same_limits(db_url, tmp_path):
    app = console_app(tmp_path, db_url)
    add_staff(app, "hana", "issuer")
    text = page_text(Console(app).login("hana").get("/admin/bulk"))
    assert f"At most {limits.MAX_ROWS:,} rows and {limits.mib(limits.MAX_UPLOAD_BYTES)} MiB per file" in text
