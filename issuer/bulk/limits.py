"""The limits of bulk issuing and its two modes: the one place their values are written.

``docs/bulk-csv.md`` states the same numbers and the console's upload page shows them from here
(``tests/issuer/bulk/test_limits.py`` compares the document with these values), so the
documentation, the console and the code cannot disagree.

Modes (:class:`BulkMode`), chosen by whoever issues a file (``microcred issue-bulk --mode``,
the console's confirm step, the REST API's ``?mode=``):

* ``all-or-nothing`` (the default): a file with any bad row issues nothing; every bad row is
  reported, to be fixed and the file sent again;
* ``valid-rows``: the good rows are issued and the bad ones are listed with their reason (a
  CSV of them can be downloaded, fixed and sent again). A problem with the file as a whole (its
  header, CSV syntax that stops the reading, too many rows) still issues nothing: which rows
  are "the valid ones" is unknown then.
"""
from __future__ import annotations

from enum import StrEnum

MAX_ROWS = 100_000                        # data rows (awards) per file
MAX_FILE_BYTES = 100 * 1024 * 1024        # a file issued from disk (microcred issue-bulk)
MAX_UPLOAD_BYTES = 10 * 1024 * 1024       # a file uploaded to the console (/admin/bulk) or the REST API
MAX_PEOPLE = 200                          # people one console form issues an achievement to at once


class BulkMode(StrEnum):
    """What to do with a file that has bad rows."""

    ALL_OR_NOTHING = "all-or-nothing"
    VALID_ROWS = "valid-rows"


def mib(size: int) -> int:
    """A byte limit in whole MiB, as messages and pages state it."""
    return size // (1024 * 1024)
