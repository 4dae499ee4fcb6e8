"""Work that is the same for many verifications, remembered by the exact content it came from.

Role: a :class:`ContentMemo` is handed to ``verify_credential(memo=...)`` inside a status memo
(the issuer's bulk self-check passes a :class:`~verifier.checks.status.RunMemo`, the verifier
web app its :class:`~verifier.web.state.StatusListMemo`). It keeps three things, each keyed by
the exact content it was derived from, so that a changed document can never be answered from
it:

* ``parsed``: a fetched document's parsed JSON (and the digest of that JSON, which the status
  memo is keyed by), by the document's exact bytes;
* ``bitstrings``: a status list's decoded bitstring, by its exact ``encodedList``;
* ``methods``: resolved keys, each with every fetch its resolution made and the exact response
  (or failure) of each; a key is reused only when the same fetches give the same responses now
  (:mod:`verifier.checks.signature`). Failed resolutions are not kept.

Every check still runs on every credential: only parsing, decoding and key resolution are
skipped. What is kept is shared between verifications (and, in the web app, between threads),
so it is never changed: parsed documents are only read, and a status list credential is copied
before it is verified. Thread-safe. Bounded, as its keys and values come from documents an
attacker may serve: each part holds at most ``max_entries`` entries, least recently used first
out; parsed documents at most ``max_parsed_bytes`` of JSON text (parsed JSON takes up to some 25
times the memory of its text, so this stays small), bitstrings at most ``max_bytes``.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from cachetools import LRUCache

__all__ = ["ContentMemo", "content_memo"]

V = TypeVar("V")


class SharedCache(Generic[V]):
    """A thread-safe LRU bounded by entries and by the ``size`` of its entries."""

    def __init__(self, max_entries: int, max_size: int, size: Callable[[Hashable, V], int]) -> None:
        self.max_entries, self.max_size = max_entries, max_size
        self._size = size
        self._lru: LRUCache[Hashable, tuple[int, V]] = LRUCache(max_size, getsizeof=lambda entry: entry[0])
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            entry = self._lru.get(key)
        return entry[1] if entry is not None else None

    def put(self, key: Hashable, value: V) -> None:
        size = max(1, self._size(key, value))
        if size > self.max_size:
            return              # larger than the whole cache: not kept
        with self._lock:
            self._lru[key] = (size, value)
            while len(self._lru) > self.max_entries:
                self._lru.popitem()

    def __len__(self) -> int:
        with self._lock:
            return len(self._lru)

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()


class ContentMemo:
    """Parsed documents, decoded bitstrings and resolved keys, by exact content (module docstring).

    ``hits`` counts the answers taken from each part (tests, benchmarks).
    """

    MAX_ENTRIES = 64
    MAX_PARSED_BYTES = 2 * 1024 * 1024
    MAX_BYTES = 32 * 1024 * 1024

    def __init__(self, *, max_entries: int = MAX_ENTRIES, max_parsed_bytes: int = MAX_PARSED_BYTES,
                 max_bytes: int = MAX_BYTES) -> None:
        #: document bytes -> (parsed JSON, the digest of that JSON or None)
        self.parsed: SharedCache[tuple[object, str | None]] = SharedCache(
            max_entries, max_parsed_bytes, lambda body, _: len(body))  # type: ignore[arg-type]
        #: (encodedList, multibase) -> bits
        self.bitstrings: SharedCache[bytes] = SharedCache(
            max_entries, max_bytes, lambda key, bits: len(key[0]) + len(bits))  # type: ignore[index]
        #: (method id, fetch policy) -> ((fetches made, the method they gave), ...), newest last
        self.methods: SharedCache[tuple[tuple[Any, Any], ...]] = SharedCache(
            max_entries, max_entries, lambda _, __: 1)
        self.hits: dict[str, int] = {}
        self._hits_lock = threading.Lock()

    def hit(self, part: str) -> None:
        with self._hits_lock:
            self.hits[part] = self.hits.get(part, 0) + 1


def content_memo(memo: object) -> ContentMemo | None:
    """The :class:`ContentMemo` a status memo carries (it is one, or has one), else None."""
    if isinstance(memo, ContentMemo):
        return memo
    found = getattr(memo, "content", None)
    return found if isinstance(found, ContentMemo) else None
