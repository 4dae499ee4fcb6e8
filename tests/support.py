"""Helpers shared by the tests: where the published spec material is, how to read it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SPEC = SHARED / "spec"
VECTORS = SPEC / "vectors"
EXAMPLES = SPEC / "examples"

# Contexts the W3C vectors use that microcred does not ship (test-only documents).
VECTOR_ONLY_CONTEXTS = ("https://www.w3.org/ns/credentials/examples/v2", "https://w3id.org/citizenship/v4rc1")


def require_shared() -> Path:
    if not SPEC.is_dir():
        pytest.skip(f"the published spec material is not at {SPEC} (../shared/spec); "
                    "these tests compare against it and cannot run without it")
    return SPEC


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def shared_context(url: str):
    index = read_json(require_shared() / "contexts" / "index.json")["contexts"]
    return read_json(SPEC / "contexts" / index[url]["file"])


def example_credentials() -> list[Path]:
    """Every unsigned OB 3.0 example in ../shared that is a credential."""
    if not EXAMPLES.is_dir():
        return []
    found = []
    for path in sorted(EXAMPLES.glob("*.json")):
        doc = read_json(path)
        if isinstance(doc, dict) and "VerifiableCredential" in (doc.get("type") or []):
            found.append(path)
    return found
