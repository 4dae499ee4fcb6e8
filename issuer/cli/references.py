"""What the award commands accept as AWARD: the award id, or the credential link ``issue`` prints.

    award_id_from("3f2c…", settings)                                         # the id, as is
    award_id_from("https://hr.example.com/credentials/3f2c…", settings)       # the link issue prints
    award_id_from("https://hr.example.com/credentials/3f2c….json/", settings) # .json/.jwt, a trailing slash,
    award_id_from("https://hr.example.com/credentials/3f2c…/badge.png", ...)  # or one of its downloads

A pure function of the text and the installation's base URL. A link must point at this
installation (same host and port, under its base path; http or https, so a link copied from a
local demo works either way): a link to another site is refused with an
:class:`~issuer.errors.InvalidInput` naming both, never read as an id of this one.
"""
from __future__ import annotations

from urllib.parse import unquote, urlsplit

from issuer.config import Settings
from issuer.errors import InvalidInput

#: what may follow the award id in a link: its representations and downloads (issuer/web/pages.py)
SUFFIXES = (".json", ".jwt")
DOWNLOADS = ("badge.png", "badge.svg", "credential.json", "credential.jwt", "qr.svg", "image.png")


def _port(scheme: str, port: int | None) -> int:
    return port or (443 if scheme == "https" else 80)


def award_id_from(ref: str, settings: Settings) -> str:
    """The award id ``ref`` names: an id, or a credential link of this installation (InvalidInput otherwise)."""
    text = ref.strip()
    if "://" not in text:
        if not text or "/" in text:
            raise InvalidInput(f"{ref!r} is neither an award id nor a credential link", code="bad_award_reference",
                               field="award")
        return text
    example = settings.url("/credentials/AWARD_ID")
    parts, base = urlsplit(text), urlsplit(settings.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{ref!r} is not a credential link (they look like {example})",
                           code="bad_award_reference", field="award")
    if (parts.hostname, _port(parts.scheme, parts.port)) != (base.hostname, _port(base.scheme, base.port)) and \
            (parts.hostname, parts.port) != (base.hostname, base.port):
        raise InvalidInput(f"{ref!r} is a link to {parts.netloc}, but this installation is {settings.base_url}; "
                           f"its credential links look like {example}", code="foreign_award_link", field="award")
    prefix = base.path.rstrip("/") + "/credentials/"
    path = unquote(parts.path)
    if not path.startswith(prefix):
        raise InvalidInput(f"{ref!r} is not a credential link (they look like {example})",
                           code="bad_award_reference", field="award")
    segments = [s for s in path[len(prefix):].split("/") if s]
    if len(segments) == 2 and segments[1] in DOWNLOADS:
        segments = segments[:1]
    if len(segments) != 1:
        raise InvalidInput(f"{ref!r} is not a credential link (they look like {example})",
                           code="bad_award_reference", field="award")
    award_id = segments[0]
    for suffix in SUFFIXES:
        if award_id.endswith(suffix):
            award_id = award_id[:-len(suffix)]
            break
    if not award_id:
        raise InvalidInput(f"{ref!r} names no award", code="bad_award_reference", field="award")
    return award_id
