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

Bulk runs, where several processes (``microcred worker``, app servers) hold hundreds of indexes
each in flight while they sign, claim them first (:meth:`StatusIndexes.claim`): each index is
written at once as a row with no owner yet, in a transaction of its own, so the other processes
draw around it, and an index another process claimed first is drawn again before anything is
signed with it (without this, two workers' chunks of 500 collide on nearly every chunk: about
7 shared indexes each, and every retry meets the other's next chunk). The store then sets the
owner (:func:`issuer.awards.store.store_awards` with ``claimed``); work that fails releases its
claims (:meth:`StatusIndexes.release`). A process killed in between leaves its claims unowned:
indexes never used (at most a few chunks' worth; the list's cap already keeps a quarter free).

One instance serves a process (the web app's services, a CLI command, a bulk run); it is
thread-safe. Opening a new list when the current one is full is done here too
(:meth:`StatusIndexes.open_lists`), so no other module decides where a status bit lives.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Insert, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

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

    def claim(self, factory: sessionmaker[Session], lists: dict[str, OpenList], count: int,
              attempts: int = 20) -> list[Slots]:
        """:meth:`reserve` ``count`` slots and write their indexes as unowned rows, committed at once;
        an index another process claimed first is drawn again. Raises :class:`ListsFull`."""
        with factory() as session:
            slots = self.reserve(session, lists, count)
        todo = [(slot, purpose) for slot in slots for purpose in slot]
        for _ in range(attempts):
            try:
                with factory.begin() as session:
                    won = _insert_unowned(session, [(slot[p][0].id, slot[p][1]) for slot, p in todo])
            except OperationalError:          # a lock wait that went wrong (busy SQLite): try the same again
                time.sleep(0.05)
                continue
            todo = [(slot, p) for slot, p in todo if (slot[p][0].id, slot[p][1]) not in won]
            if not todo:
                return slots
            with factory() as session, self._lock:
                for slot, purpose in todo:          # taken meanwhile by another process: another index
                    status_list, lost = slot[purpose]
                    self._reserved.get(status_list.id, set()).discard(lost)
                    self._stored.pop(status_list.id, None)
                    used = self._used(session, status_list) | {lost}
                    if len(used) >= status_list.cap:
                        raise ListsFull()
                    index = self._draw(status_list.size)
                    while index in used:
                        index = self._draw(status_list.size)
                    self._reserved.setdefault(status_list.id, set()).add(index)
                    slot[purpose] = (status_list, index)
        self.release(factory, slots)
        raise ListsFull()

    def release(self, factory: sessionmaker[Session], slots: Iterable[Slots]) -> None:
        """Delete the unowned claims of ``slots`` (their work failed) and :meth:`forget` them."""
        slots = list(slots)
        by_list: dict[int, list[int]] = {}
        for slot in slots:
            for status_list, index in slot.values():
                by_list.setdefault(status_list.id, []).append(index)
        with factory.begin() as session:
            for list_id, indexes in by_list.items():
                session.execute(delete(StatusAllocation).where(
                    StatusAllocation.list_id == list_id, StatusAllocation.index.in_(indexes),
                    StatusAllocation.award_id.is_(None), StatusAllocation.vcapi_credential_id.is_(None)))
        self.forget(slots)

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


def _insert_unowned(session: Session, keys: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """INSERT (list, index) rows with no owner, skipping those that exist; the keys inserted."""
    if not keys:
        return set()
    table = cast(Table, StatusAllocation.__table__)
    # the databases microcred runs on (issuer.db.engine) share this statement: INSERT ... ON CONFLICT DO NOTHING
    dialect_insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
    statement: Insert = dialect_insert(table).on_conflict_do_nothing()
    rows = [{"list_id": list_id, "index": index, "award_id": None, "vcapi_credential_id": None}
            for list_id, index in sorted(keys)]     # one order for every process: their waits cannot cross
    # many rows with one compiled statement (SQLAlchemy's "insertmanyvalues" batches them), not
    # one statement of as many VALUES compiled afresh for every call
    returned = session.execute(statement.returning(table.c.list_id, table.c.index), rows)
    return {(int(list_id), int(index)) for list_id, index in returned}


def allocation_rows(slots: Slots, *, award_id: str | None = None,
                    vcapi_credential_id: str | None = None) -> list[dict[str, object]]:
    """The ``StatusAllocation`` rows of one credential's slots (exactly one owner id given)."""
    return [{"list_id": status_list.id, "index": index, "award_id": award_id,
             "vcapi_credential_id": vcapi_credential_id} for status_list, index in slots.values()]
