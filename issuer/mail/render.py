"""Render one email of a :class:`~issuer.mail.kinds.MailKind`: its subject, text part and HTML part.

    rendered = render(MailKind.REVOKED, MailContext(greeting="Sam", organisation="Example Corp",
                      my_badges_url="https://hr.example.com/me/", badge="SQL", badge_url=..., reason="..."))
    rendered.subject, rendered.text, rendered.html

The bodies come from the template pair ``templates/<kind>.txt`` and ``templates/<kind>.html``
(Jinja2, which Flask brings): the HTML is autoescaped, the text is not (it is never read as
markup), and an unknown name in a template is an error (``StrictUndefined``), so a template and
its context cannot drift apart silently. The subject is the kind's pattern
(:attr:`MailKind.subject`) filled in and made one header-safe line. Both parts carry the same
links. Pure: no database, no clock.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from issuer.mail.kinds import MailKind
from issuer.mail.transport import clean_header

TEMPLATES = Path(__file__).parent / "templates"

# auto_reload off: the templates ship with the package, so each is read and compiled once, not
# checked on disk again for every email (a bulk run composes thousands)
_ENV = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, trim_blocks=True,
                   lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False,
                   autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False,
                                                default=False))


@dataclass(frozen=True)
class Contact:
    """Where the recipient can ask: ``href`` for the HTML link, ``text`` as shown in both parts."""

    href: str
    text: str


def contact_for(email: str | None, url: str | None) -> Contact | None:
    """The issuer's email (a mailto: link) or else its web address (http or https only); None without either."""
    address = clean_header(email, 320)
    if address and re.fullmatch(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", address):
        return Contact("mailto:" + quote(address, safe="@.+-_"), address)
    site = clean_header(url, 2048)
    if site and urlsplit(site).scheme in ("http", "https") and urlsplit(site).hostname:
        return Contact(site, site)
    return None


@dataclass(frozen=True)
class MailContext:
    """What the templates may use; each kind uses some of it (``badge``... for the award kinds, ``link``
    and ``minutes`` for the sign-in link)."""

    greeting: str                   # the recipient's name, or "there"
    organisation: str               # the issuer's name
    my_badges_url: str              # {base_url}/me/
    contact: Contact | None = None
    badge: str = ""
    badge_url: str = ""             # the badge's public page
    until: str = ""                 # the last day of validity, YYYY-MM-DD ("" without an end date)
    reason: str = ""                # why HR revoked or suspended it, when given
    link: str = ""                  # the one-time sign-in link
    minutes: int = 0                # how long the sign-in link works


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _tidy(text: str) -> str:
    """At most one empty line between paragraphs, no trailing spaces, one final newline."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def render(kind: MailKind, context: MailContext) -> Rendered:
    """The subject, text and HTML of a ``kind`` email (see the module docstring)."""
    values = dict(vars(context))                  # its fields as they are (the templates read contact's attributes)
    subject = clean_header(kind.subject.format(**values), 250)
    text = _ENV.get_template(f"{kind.value}.txt").render(values, subject=subject)
    html = _ENV.get_template(f"{kind.value}.html").render(values, subject=subject)
    return Rendered(subject, _tidy(text), html)
