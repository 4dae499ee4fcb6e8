"""Setting up an installation: its issuer (did:web from the base URL), first key, status lists.

:func:`setup_issuer` does it in the caller's transaction (the
:class:`~issuer.setup_service.SetupService` runs it for ``microcred init`` and the demo);
:func:`init_instance` opens the installation's database (created and migrated on first use)
and runs it in a transaction of its own. Running either again changes nothing.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from issuer.awards.status_lists import ensure_lists
from issuer.config import Settings
from issuer.db.models import Issuer
from issuer.errors import InvalidInput
from issuer.identity import find_issuer
from issuer.instance import open_instance
from issuer.keys.keyring import add_key


def setup_issuer(session: Session, settings: Settings, *, name: str, url: str | None = None,
                 email: str | None = None, description: str | None = None) -> tuple[Issuer, bool]:
    """The issuer for the base URL, created with its first key and status lists if there is none.

    Returns (issuer, created). ``name`` is required only when the issuer is created.
    """
    issuer = find_issuer(session, settings)
    if issuer is not None:
        return issuer, False
    if not name or not name.strip():
        raise InvalidInput("the issuer needs a name (--name)", field="name")
    issuer = Issuer(did=settings.did, base_url=settings.base_url, name=name.strip(), url=url, email=email,
                    description=description)
    session.add(issuer)
    session.flush()
    add_key(session, settings, issuer)  # Ed25519: what eddsa-rdfc-2022 signs with
    ensure_lists(session, settings, issuer)
    return issuer, True


def init_instance(settings: Settings, *, name: str, url: str | None = None, email: str | None = None,
                  description: str | None = None) -> tuple[Issuer, bool]:
    """Create the database, the issuer (did:web from the base URL), its first key and status lists.

    Returns (issuer, created); running it again changes nothing.
    """
    with open_instance(settings).begin() as session:
        return setup_issuer(session, settings, name=name, url=url, email=email, description=description)
