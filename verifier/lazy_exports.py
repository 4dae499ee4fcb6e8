"""Public names of a package looked up in their modules on first use (PEP 562).

``verifier`` and ``issuer`` both keep their entry points (``verify_credential``,
``sign_credential``) importable from the package while loading nothing at package import: every
``verifier.*`` / ``issuer.*`` import runs the package's ``__init__``, and a command that needs one
small module should not load every check, pyld, the schemas or the signing stack.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``exports`` maps each public name to the module that
    defines it; the first lookup imports that module and keeps the value in ``namespace`` (the
    package's globals), so later lookups never come here again."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
