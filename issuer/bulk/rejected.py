"""The rejected rows of a bulk file as a CSV to fix and send again.

    data = rejected_csv(raw, report.problems)     # bytes: line, reason, then the row as the file had it

One line per bad row: its line number in the file, the reason it was refused, then its cells
under the file's own column names (the known columns of its header, in the file's order), so
HR can correct the cells in a spreadsheet, delete the first two columns and upload the rows
again. A problem with the file as a whole (its header, say) is one line with empty cells. Cells
that a spreadsheet would run as a formula get a ``'`` before them
(:func:`issuer.bulk.jobs.safe_cell`); the file starts with a UTF-8 byte order mark, like the
console's template, so Excel reads it as UTF-8.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from issuer.bulk.jobs import safe_cell
from issuer.bulk.reading import RowProblem, header_columns, read_cells

LEAD_COLUMNS = ("line", "reason")


def rejected_csv(raw: bytes, problems: Sequence[RowProblem]) -> bytes:
    """The bad rows of the file ``raw`` (its content), with their reasons, as CSV bytes."""
    columns = header_columns(raw)
    cells, _header_line = read_cells(raw, columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*LEAD_COLUMNS, *columns])
    for problem in sorted(problems, key=lambda p: p.line):
        row = cells.get(problem.line, {})
        writer.writerow([safe_cell(v) for v in (problem.line, problem.reason, *(row.get(c, "") for c in columns))])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
