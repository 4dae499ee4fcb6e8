"""Setting up an installation (issuer, first key, status lists), checking it is ready, and its demo data.

    services.setup.init(name="Example Corp")       # SetUp(issuer, created); again: changes nothing
    services.setup.check_ready()                   # NotReady unless there is a current key file
    demo = services.setup.demo()                   # the demo issuer, data, emails and console account

``init`` runs :func:`issuer.setup.setup_issuer` in one transaction. The demo
(:mod:`issuer.demo_data`) is set up as ``microcred init`` would (Example Corp's People Team),
then its achievements are added and its awards issued through the one pipeline
(:func:`issuer.awards.issuance.issue_award`, all in one transaction). Everything is
idempotent: running it again finds what is there and adds nothing. The demo's console
account (``hr-admin``) is created only while the installation has no staff account; its
random password is kept (0600) in ``<instance>/demo-admin-password`` so the demo can show it
again.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from issuer.access.staff import create_user
from issuer.awards.allocation import StatusIndexes
from issuer.awards.credentials import achievement_url, credential_url
from issuer.awards.issuance import IssuerContext, issue_award
from issuer.awards.request import AwardRequest
from issuer.config import Settings
from issuer.db.models import Achievement, Issuer, IssuerKey, new_id
from issuer.db.models_staff import StaffUser
from issuer.demo_data import ACHIEVEMENTS, AWARDS, EMPLOYEES, ISSUER, rubric
from issuer.errors import NotReady
from issuer.mail.outbox import send_after_commit
from issuer.runtime import Runtime
from issuer.setup import setup_issuer
from issuer.skills.catalogue import canonical_alignments

DEMO_ADMIN = "hr-admin"
DEMO_PASSWORD_FILE = "demo-admin-password"  # noqa: S105 - a file name


@dataclass(frozen=True)
class SetUp:
    issuer: Issuer
    created: bool             # False: it was set up before (nothing changed)


@dataclass(frozen=True)
class DemoAward:
    award_id: str
    url: str
    recipient: str
    achievement: str
    created: bool


@dataclass(frozen=True)
class DemoResult:
    issuer_did: str
    issuer_created: bool
    achievements_created: int
    awards: tuple[DemoAward, ...]

    @property
    def achievements_total(self) -> int:
        return len(ACHIEVEMENTS)

    @property
    def awards_created(self) -> int:
        return sum(1 for award in self.awards if award.created)


@dataclass(frozen=True)
class DemoAdmin:
    username: str
    password: str | None      # None: not known (the installation had accounts of its own)
    password_file: Path


@dataclass(frozen=True)
class Demo:
    seeded: DemoResult
    emails_sent: int          # award emails sent (to the SMTP server or the outbox folder)
    admin: DemoAdmin


class SetupService:
    """Setting up an installation (issuer, first key, status lists) and its demo data."""

    def __init__(self, runtime: Runtime, indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.indexes = indexes

    def init(self, *, name: str, url: str | None = None, email: str | None = None,
             description: str | None = None) -> SetUp:
        """The issuer for the base URL (did:web), created with an Ed25519 key and status lists if missing."""
        with self.runtime.transaction() as session:
            issuer, created = setup_issuer(session, self.runtime.settings, name=name, url=url, email=email,
                                           description=description)
        return SetUp(issuer, created)

    def check_ready(self) -> None:
        """NotReady unless the issuer exists with a current key whose private key file is in the keys folder."""
        settings = self.runtime.settings
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)       # "run 'microcred init'" when missing
            key = session.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id,
                                                          IssuerKey.state == "current")).one_or_none()
        if key is None:
            raise NotReady(f"the issuer {issuer.did} has no current key; run 'microcred keys rotate'",
                           code="no_current_key")
        if not (Path(settings.keys_dir) / key.key_file).is_file():
            raise NotReady(f"the issuer's current key file {Path(settings.keys_dir) / key.key_file} is missing "
                           "(restore the keys folder, or set MICROCRED_KEYS)", code="key_file_missing")

    def seed_demo(self, *, actor: str = "demo", notify: bool = False) -> DemoResult:
        """The demo issuer, achievements and awards; idempotent.

        ``notify``: queue an award email for each new award (``microcred demo`` does).
        """
        issuer_created = self.init(**ISSUER).created
        settings = self.runtime.settings
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            achievements, achievements_created = _ensure_achievements(session, settings, issuer, self.runtime.now())
            ctx = IssuerContext.load(session, settings, issuer, self.indexes)
            awards = []
            for employee_index, slug, level, evidence in AWARDS:
                name, email, employee_id = EMPLOYEES[employee_index]
                request = _request(settings, achievements[slug], name, email, employee_id, level, evidence)
                award, created = issue_award(session, ctx, request, actor=actor, now=self.runtime.now(), jwt=True,
                                             notify="awarded" if notify else None)
                awards.append(DemoAward(award.id, credential_url(settings, award.id), name, achievements[slug].name,
                                        created))
            return DemoResult(issuer.did, issuer_created, achievements_created, tuple(awards))

    def demo_admin(self) -> DemoAdmin:
        """A console account for trying the demo, created only while no staff account exists."""
        path = self.runtime.settings.instance / DEMO_PASSWORD_FILE
        with self.runtime.transaction() as session:
            if session.scalars(select(StaffUser.id).limit(1)).first() is None:
                password = secrets.token_urlsafe(12)
                create_user(session, DEMO_ADMIN, password, "admin", name="Demo HR admin", now=self.runtime.now())
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(password + "\n")
                return DemoAdmin(DEMO_ADMIN, password, path)
            known = session.scalars(select(StaffUser.id).where(StaffUser.username == DEMO_ADMIN)).first()
        if known is not None and path.is_file():
            return DemoAdmin(DEMO_ADMIN, path.read_text(encoding="utf-8").strip(), path)
        return DemoAdmin(DEMO_ADMIN, None, path)

    def demo(self, *, actor: str = "demo") -> Demo:
        """``microcred demo``: seed the demo (award emails queued), send the emails, and the console account."""
        seeded = self.seed_demo(actor=actor, notify=True)
        delivery = send_after_commit(self.runtime.sessions, self.runtime.settings, transport=self.runtime.transport)
        return Demo(seeded, delivery.sent if delivery is not None else 0, self.demo_admin())


def seed_demo(sessions: sessionmaker[Session], settings: Settings, *, actor: str = "demo",
              notify: bool = False) -> DemoResult:
    """:meth:`SetupService.seed_demo` for a caller that holds a session factory, not the service layer."""
    return SetupService(Runtime(settings, sessions), StatusIndexes()).seed_demo(actor=actor, notify=notify)


def _ensure_achievements(session: Session, settings: Settings, issuer: Issuer,
                         now: datetime) -> tuple[dict[str, Achievement], int]:
    """The demo achievements by slug (existing ones are left as they are); (by slug, how many were created).
    Their skill frameworks become frameworks of the catalogue, as the console's would."""
    existing = {a.slug: a for a in session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id))}
    created = 0
    for spec in ACHIEVEMENTS:
        if spec["slug"] in existing:
            continue
        row = Achievement(id=new_id(), issuer_id=issuer.id, slug=spec["slug"], name=spec["name"],
                          description=spec["description"], criteria_narrative=spec["criteria"],
                          achievement_type="Competency",
                          alignments=canonical_alignments(session, issuer, spec["alignments"], now=now),
                          tags=spec["tags"], validity_months=spec["months"], version="1.0")
        row.result_descriptions = [rubric(achievement_url(settings, row))]
        session.add(row)
        existing[row.slug] = row
        created += 1
    session.flush()
    return existing, created


def _request(settings: Settings, achievement: Achievement, name: str, email: str, employee_id: str, level: str,
             evidence: str | None) -> AwardRequest:
    rubric_id = achievement.result_descriptions[0]["id"]
    result = {"resultDescription": rubric_id, "value": level.capitalize(),
              "achievedLevel": f"{achievement_url(settings, achievement)}#level-{level}"}
    proof = ({"name": "Assessment record", "narrative": evidence, "genre": "Assessment"},) if evidence else ()
    return AwardRequest(achievement=achievement.slug, email=email, name=name, employee_id=employee_id,
                        evidence=proof, results=(result,))
