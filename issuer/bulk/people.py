"""One achievement for several people at once: the console's list of people, read and mapped onto a bulk run.

    people, problems = read_people("alex@example.com, Alex Doe\\nSam Lee <sam@example.com>")
    data, lines = people_csv(people, achievement="sql", shared={"evidence_url": "https://…"})
    result = bulk_run(data)                                   # the one bulk pipeline and its rules
    outcomes = outcomes_of(people, problems, lines, result)   # one per person, in the order typed

Each non-blank line of the list is one person: an email, and optionally a name, written as
``email``, ``email, Name``, ``Name, email``, ``Name <email>`` or tab-separated (a column pasted
from a spreadsheet). The list is turned into a bulk CSV (one row per person, the same
achievement, evidence and date on each) so every person is checked by exactly the rules of a
bulk file and of the API (:mod:`issuer.bulk.reading`), issued by the one pipeline, idempotent
(the same list sent twice issues nothing new) and audited as a bulk run. Pure functions: the
service (:meth:`issuer.bulk.service.BulkService.issue_people`) runs it.

Hand-written because it is a few lines of splitting; :func:`email.utils.parseaddr` accepts
``Name <email>`` only and reads ``email, Name`` wrongly.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from issuer.bulk.limits import MAX_PEOPLE
from issuer.bulk.run import BulkResult

#: what one form gives every person (bulk CSV columns)
SHARED_COLUMNS = ("evidence_url", "evidence_name", "evidence_narrative", "awarded_date")
COLUMNS = ("email", "name", "achievement", *SHARED_COLUMNS)
_ANGLE = re.compile(r"^(?P<name>[^<>]*)<(?P<email>[^<>]*)>\s*$")
_SEPARATORS = re.compile(r"[,;\t]")


@dataclass(frozen=True)
class Person:
    line: int                  # line of the list, from 1
    email: str
    name: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one person: ``issued``, ``already issued``, ``refused`` (why), or ``not issued``
    (all-or-nothing and someone else was refused)."""

    line: int
    email: str
    name: str
    status: str
    reason: str = ""
    award_id: str = ""
    credential_url: str = ""


@dataclass(frozen=True)
class PeopleRun:
    """The answer for a list of people: an outcome per line, and whether anything was issued."""

    outcomes: list[Outcome]
    issued_any: bool             # False: nothing new issued (a problem, all-or-nothing; or all issued before)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def read_person(line: int, text: str) -> Person | str:
    """One line of the list as a person, or why it is not one."""
    match = _ANGLE.match(text)
    if match:
        return Person(line, match["email"].strip(), " ".join(match["name"].replace('"', " ").split()))
    parts = [part.strip() for part in _SEPARATORS.split(text) if part.strip()]
    emails = [part for part in parts if "@" in part]
    if not emails:
        return "no email address on this line"
    if len(emails) > 1:
        return "more than one email address on this line; put each person on a line of their own"
    return Person(line, emails[0], " ".join(part for part in parts if part is not emails[0]))


def read_people(text: str) -> tuple[list[Person], dict[int, str]]:
    """(the people of the list, line -> why that line is not a person). Blank lines are skipped;
    a list of more than :data:`MAX_PEOPLE` people is refused at the first line over."""
    people: list[Person] = []
    problems: dict[int, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        if len(people) + len(problems) >= MAX_PEOPLE:
            problems[number] = f"at most {MAX_PEOPLE} people at once; issue to the others in a second round"
            break
        person = read_person(number, raw.strip())
        if isinstance(person, str):
            problems[number] = person
        else:
            people.append(person)
    return people, problems


def people_csv(people: Sequence[Person], *, achievement: str,
               shared: Mapping[str, str | None]) -> tuple[bytes, dict[int, Person]]:
    """(a bulk CSV with one row per person, file line -> the person on it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    lines: dict[int, Person] = {}
    for person in people:
        lines[out.getvalue().count("\n") + 1] = person          # a narrative with line breaks spans lines
        writer.writerow([person.email, person.name, achievement, *(shared.get(c) or "" for c in SHARED_COLUMNS)])
    return out.getvalue().encode("utf-8"), lines


def outcomes_of(people: Sequence[Person], problems: Mapping[int, str], lines: Mapping[int, Person],
                result: BulkResult) -> list[Outcome]:
    """One outcome per line of the list (people and lines that are not), in the order typed."""
    by_person = {person.line: line for line, person in lines.items()}
    awards = {award.line: award for award in result.awards}
    refused = {problem.line: problem.reason for problem in result.report.problems}
    outcomes = [Outcome(line, "", "", "refused", reason) for line, reason in problems.items()]
    for person in people:
        file_line = by_person[person.line]
        award = awards.get(file_line)
        if award is not None:
            outcomes.append(Outcome(person.line, person.email, person.name,
                                    "issued" if award.created else "already issued",
                                    award_id=award.award_id, credential_url=award.credential_url))
        elif file_line in refused:
            outcomes.append(Outcome(person.line, person.email, person.name, "refused", refused[file_line]))
        else:
            outcomes.append(Outcome(person.line, person.email, person.name, "not issued",
                                    "nothing was issued because of the problems on other lines"))
    return sorted(outcomes, key=lambda o: o.line)
