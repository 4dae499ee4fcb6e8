"""What the personal data tests share: an issuer with demo data, a person with a full record, a database dump.

``person(app)`` gives Pat Doe two badges (one with a VC-JWT, evidence naming them), a renewal, a
published profile with the name shown, and delivered emails (``.eml`` files in the instance
folder: no SMTP host is set); ``other(app)`` gives Sam Other one badge and its email.
``dump(app)`` is every row of every table as text, to look for what must be gone.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from issuer.db.base import Base
from issuer.db.models import Award

PAT, PAT_NAME, PAT_EMPLOYEE = "pat.doe@example.com", "Pat Doe", "EC-7741"
SAM, SAM_NAME = "sam.other@example.com", "Sam Other"
PAT_TRACES = ("pat.doe", "pat doe", "ec-7741", "did:example:pat")


@dataclass(frozen=True)
class Record:
    awards: list[str]          # every award of the person, oldest first
    texts: dict[str, str]      # award id -> its credential as issued


def services(app: Flask):
    return app.extensions["microcred"].use


def issue(app: Flask, email: str, name: str, achievement: str = "team-leadership", **extra) -> str:
    body = {"achievement": achievement, "email": email, "name": name, **extra}
    return services(app).awards.issue(body, actor="staff:hana").award.id


def person(app: Flask) -> Record:
    """Pat Doe's full record (see the module docstring)."""
    use = services(app)
    first = issue(app, PAT, PAT_NAME, employee_id=PAT_EMPLOYEE, did="did:example:pat", jwt=True,
                  evidence=[{"narrative": "Pat Doe led the payroll audit."}])
    second = issue(app, PAT, PAT_NAME, achievement="coaching-feedback")
    use.status.change_status(second, "suspend", {"reason": "Pat Doe asked to check the results"}, actor="staff:hana")
    renewed = use.status.renew(first, actor="staff:hana").award.id
    use.public.publish_profile(PAT, slug="pat-profile", show_name=True, actor="staff:hana")
    use.mail.deliver_pending()
    return Record([first, second, renewed], credentials(app, [first, second, renewed]))


def other(app: Flask) -> Record:
    award = issue(app, SAM, SAM_NAME)
    services(app).mail.deliver_pending()
    return Record([award], credentials(app, [award]))


def credentials(app: Flask, award_ids: list[str]) -> dict[str, str]:
    with app.extensions["microcred"].sessions() as session:
        return {a.id: a.credential for a in session.scalars(select(Award).where(Award.id.in_(award_ids)))}


def dump(app: Flask) -> str:
    """Every row of every table, as lower-case text (bytes decoded), one line per row."""
    lines = []
    with app.extensions["microcred"].engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                cells = [bytes(v).decode("utf-8", "replace") if isinstance(v, bytes | memoryview) else v
                         for v in row]
                lines.append(f"{table.name}: " + json.dumps(cells, default=str, ensure_ascii=False).lower())
    return "\n".join(lines)


def mail_files(app: Flask) -> list[Path]:
    folder = app.extensions["microcred"].settings.instance / "outbox-mail"
    return sorted(folder.iterdir()) if folder.exists() else []


def files_naming(app: Flask, text: str) -> list[Path]:
    return [p for p in mail_files(app) if p.is_file() and text.lower() in p.read_bytes().decode("utf-8", "replace").lower()]
