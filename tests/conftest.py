"""Fixtures: the published spec material and an engine that knows the W3C vectors' contexts."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.db_fixtures import db_engine, db_url, postgres_url  # noqa: F401  (shared fixtures)
from tests.http_fixtures import http_server, https_server, tls_material  # noqa: F401  (shared fixtures)
from tests.redis_fixtures import redis_server, redis_url  # noqa: F401  (shared fixtures)
from tests.support import VECTOR_ONLY_CONTEXTS, require_shared, shared_context
from verifier.document_loader import DocumentLoader
from verifier.jsonld import JsonLdEngine


@pytest.fixture(scope="session")
def spec() -> Path:
    return require_shared()


@pytest.fixture(scope="session")
def vector_engine(spec) -> JsonLdEngine:
    """An engine that also knows the example contexts the W3C test vectors use."""
    return JsonLdEngine(DocumentLoader({url: shared_context(url) for url in VECTOR_ONLY_CONTEXTS}))
