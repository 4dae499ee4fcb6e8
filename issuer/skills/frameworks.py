"""When two framework names are the same framework: the one rule, pure (no database).

Frameworks used to be free text in each alignment's ``targetFramework``, so one installation
could hold "ESCO" and "ESCO (European Skills, Competences, Qualifications and Occupations)"
as two frameworks. Two names are the **same framework** when

1. their keys are equal once the part from the first " (" on is dropped (:func:`short_key`):
   "ESCO" = "esco" = "ESCO (European Skills, …)"; or
2. (old data only, :func:`merge_names`) every skill URL (``targetUrl``) of each name is on one
   and the same host: "ESCO" and "European Skills…" whose skills are all on ``data.europa.eu``.

The kept name of a merged group is the one most alignments use (ties: the shorter, then the
first alphabetically). Rule 2 is only for migrating old data: a new name typed through the API
or the CLI is matched with rule 1 (:func:`same_framework`), since a host alone (a company's
intranet) may well serve two real frameworks.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_SPACES = re.compile(r"\s+")
MAX_NAME = 255

#: publisher and home page of the frameworks whose CSV downloads :mod:`issuer.skills.readers` knows
KNOWN = {
    "esco": ("ESCO", "European Commission", "https://esco.ec.europa.eu/"),
    "onet": ("O*NET", "U.S. Department of Labor, O*NET Resource Center", "https://www.onetcenter.org/"),
}
KNOWN_HOSTS = {"data.europa.eu": "esco", "esco.ec.europa.eu": "esco", "www.onetonline.org": "onet",
               "www.onetcenter.org": "onet", "services.onetcenter.org": "onet"}


def name_key(name: str) -> str:
    """The name as compared: NFC, case-folded, spaces collapsed (``name_key`` is unique per issuer)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", name)).strip().casefold()


def short_key(name: str) -> str:
    """:func:`name_key` of the part before the first " (": "ESCO (European …)" -> "esco"."""
    head = name.split(" (", 1)[0]
    return name_key(head) or name_key(name)


def same_framework(one: str, other: str) -> bool:
    """Rule 1: the names match once a parenthesised tail is dropped."""
    return short_key(one) == short_key(other)


def url_host(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.lower() if host else None


@dataclass
class NameUse:
    """How old data uses one framework name: in how many alignments, with skills on which hosts."""

    count: int = 0
    hosts: set[str] = field(default_factory=set)

    @property
    def home(self) -> str | None:
        """The one host all this name's skills are on (None when several or none)."""
        return next(iter(self.hosts)) if len(self.hosts) == 1 else None


@dataclass(frozen=True)
class MergedName:
    name: str                   # the kept name
    members: tuple[str, ...]    # every name merged into it (the kept one too), sorted
    home: str | None            # the common host of its skills, if any


def name_uses(alignments: Iterable[object]) -> dict[str, NameUse]:
    """Count the framework names of ``alignments`` (OB Alignment dicts; anything else is skipped)."""
    uses: dict[str, NameUse] = {}
    for alignment in alignments:
        if not isinstance(alignment, dict):
            continue
        name = alignment.get("targetFramework")
        if not isinstance(name, str) or not name.strip():
            continue
        use = uses.setdefault(name, NameUse())
        use.count += 1
        host = url_host(alignment.get("targetUrl"))
        if host:
            use.hosts.add(host)
    return uses


def merge_names(uses: Mapping[str, NameUse]) -> list[MergedName]:
    """Group the names that are the same framework (rules 1 and 2), by kept name."""
    names = sorted(uses)
    parent = {name: name for name in names}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    by_key: dict[str, str] = {}
    by_host: dict[str, str] = {}
    for name in names:
        for index, key in ((by_key, short_key(name)), (by_host, uses[name].home)):
            if key is None:
                continue
            if key in index:
                parent[root(name)] = root(index[key])
            else:
                index[key] = name
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(root(name), []).append(name)
    merged = []
    for members in groups.values():
        kept = min(members, key=lambda n: (-uses[n].count, len(n), n))
        hosts = set().union(*(uses[n].hosts for n in members))
        merged.append(MergedName(kept.strip()[:MAX_NAME], tuple(sorted(members)),
                                 next(iter(hosts)) if len(hosts) == 1 else None))
    return sorted(merged, key=lambda m: name_key(m.name))


def known_framework(home: str | None, name: str = "") -> tuple[str, str] | None:
    """(publisher, URL) of a well-known framework, by its skills' host or its name."""
    family = KNOWN_HOSTS.get(home or "") or {"esco": "esco", "o*net": "onet", "onet": "onet"}.get(short_key(name))
    if family is None:
        return None
    _name, publisher, url = KNOWN[family]
    return publisher, url
