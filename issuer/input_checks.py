"""Checks every kind of input (API bodies, console forms, achievement definitions) shares."""
from __future__ import annotations

from collections.abc import Iterable, Mapping


def unknown_fields(body: Mapping, allowed: Iterable[str], what: str) -> str | None:
    """The message for keys of ``body`` outside ``allowed`` (``what``: "The award", ...), or None."""
    allowed = tuple(allowed)
    unknown = sorted(set(body) - set(allowed))
    if not unknown:
        return None
    return (f"{what} has unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(allowed)}.")
