"""Status list indexes: the one place that chooses them, for awards and VC-API credentials alike.

Bitstring Status List §5 (privacy): indexes are drawn at random, never in order, and a list
is never filled beyond three quarters, so an index says nothing about when or to whom a
credential was issued. Each used index is a ``StatusAllocation`` row whose primary key
(list, index) makes two credentials sharing an index impossible, even under concurrency:

* :class:`StatusIndexes` draws indexes in memory, avoiding those already used (read once
  per list and read again only when the number stored shows that someone else allocated
  meanwhile) and those it handed out for work not yet stored;
* the caller stores them with its credentials (:func:`issuer.awards.store.store_awards`);
  when a concurrent issuer took one of them first, the INSERT fails, the caller rolls back,
  :meth:`StatusIndexes.forget` drops the reservation and the work is planned again.

One instance serves a process (the web app's services, a CLI command, a bulk run); it is
thread-safe. Opening a new list when the current one is full is done here too
(:meth:`StatusIndexes.open_lists`), so no other module decides where a status bit lives.
"""
from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.awards.status_lists import PURPOSES, list_url, open_list, publish
from issuer.config import Settings
from issuer.db.models import Issuer, StatusAllocation


@dataclass(frozen=True)
class OpenList:
    """A status list credentials can be put on: its row id, purpose, size and public URL."""

    id: int
    purpose: str
    size: int
    url: str

    @property
    def cap(self) -> int:
        return self.size * 3 // 4         # never filled completely: indexes stay unpredictable

    def entry(self, index: int) -> dict[str, str]:
        """The ``credentialStatus`` entry (BitstringStatusListEntry) for ``index`` on this list."""
        return {"id": f"{self.url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": self.purpose,
                "statusListIndex": str(index), "statusListCredential": self.url}


Slots = dict[str, tuple[OpenList, int]]     # purpose -> (list, index): one slot per purpose


class ListsFull(Exception):
    """The open lists have less room than asked for: open new ones (:meth:`StatusIndexes.open_lists`)."""


class StatusIndexes:
    """Random, unused status indexes on an issuer's open revocation and suspension lists."""

    def __init__(self, draw: Callable[[int], int] = secrets.randbelow) -> None:
        self._draw = draw
        self._lock = threading.Lock()
        self._stored: dict[int, set[int]] = {}       # list id -> indexes stored (as last read, plus ours)
        self._reserved: dict[int, set[int]] = {}     # list id -> handed out, not yet stored or forgotten

    def open_lists(self, session: Session, settings: Settings, issuer: Issuer) -> dict[str, OpenList]:
        """The issuer's open list of each purpose (created and published when missing or full)."""
        lists = {}
        for purpose in PURPOSES:
            row = open_list(session, issuer, purpose)
            if row.credential is None:
                publish(session, settings, issuer, row)
            lists[purpose] = OpenList(row.id, purpose, row.size, list_url(settings, row))
        return lists

    def _used(self, session: Session, status_list: OpenList) -> set[int]:
        stored = session.scalar(select(func.count()).select_from(StatusAllocation)
                                .where(StatusAllocation.list_id == status_list.id))
        known = self._stored.get(status_list.id)
        if known is None or len(known) != stored:
            known = self._stored[status_list.id] = set(session.scalars(
                select(StatusAllocation.index).where(StatusAllocation.list_id == status_list.id)))
        return known | self._reserved.get(status_list.id, set())

    def reserve(self, session: Session, lists: dict[str, OpenList], count: int) -> list[Slots]:
        """``count`` slots (one index per purpose each); raises :class:`ListsFull` if a list lacks room."""
        with self._lock:
            used = {purpose: self._used(session, status_list) for purpose, status_list in lists.items()}
            if any(len(used[p]) + count > lists[p].cap for p in lists):
                raise ListsFull()
            slots: list[Slots] = []
            for _ in range(count):
                slot: Slots = {}
                for purpose, status_list in lists.items():
                    index = self._draw(status_list.size)
                    while index in used[purpose]:
                        index = self._draw(status_list.size)
                    used[purpose].add(index)
                    self._reserved.setdefault(status_list.id, set()).add(index)
                    slot[purpose] = (status_list, index)
                slots.append(slot)
            return slots

    def room(self, session: Session, lists: dict[str, OpenList]) -> int:
        """How many more slots the lists take before one of them is full."""
        with self._lock:
            return min(status_list.cap - len(self._used(session, status_list)) for status_list in lists.values())

    def stored(self, slots: Iterable[Slots]) -> None:
        """The slots' credentials were committed: their indexes are used for good."""
        with self._lock:
            for slot in slots:
                for status_list, index in slot.values():
                    self._reserved.get(status_list.id, set()).discard(index)
                    if status_list.id in self._stored:
                        self._stored[status_list.id].add(index)

    def forget(self, slots: Iterable[Slots]) -> None:
        """The slots' work was rolled back: the indexes may be drawn again (and the used set re-read)."""
        with self._lock:
            for slot in slots:
                for status_list, index in slot.values():
                    self._reserved.get(status_list.id, set()).discard(index)
                    self._stored.pop(status_list.id, None)


def allocation_rows(slots: Slots, *, award_id: str | None = None,
                    vcapi_credential_id: str | None = None) -> list[dict[str, object]]:
    """The ``StatusAllocation`` rows of one credential's slots (exactly one owner id given)."""
    return [{"list_id": status_list.id, "index": index, "award_id": award_id,
             "vcapi_credential_id": vcapi_credential_id} for status_list, index in slots.values()]
