"""Setting up an installation: its database, its issuer (did:web from the base URL), first key, status lists."""
from __future__ import annotations

from sqlalchemy import select

from issuer.awards.status_lists import ensure_lists
from issuer.config import Settings
from issuer.db.models import Issuer
from issuer.errors import InvalidInput
from issuer.instance import open_instance
from issuer.keys.keyring import add_key


def init_instance(settings: Settings, *, name: str, url: str | None = None, email: str | None = None,
                  description: str | None = None) -> tuple[Issuer, bool]:
    """Create the database, the issuer (did:web from the base URL), its first key and status lists.

    Returns (issuer, created); running it again changes nothing.
    """
    factory = open_instance(settings)
    with factory.begin() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.did == settings.did)).one_or_none()
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
