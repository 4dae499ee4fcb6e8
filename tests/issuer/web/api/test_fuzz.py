"""Schemathesis (4.x) against the OpenAPI document the app serves: every operation of /api/v1 and
the VC-API, fuzzed in-process (WSGI), never answers 5xx, and its answers match the document
(status codes, media types, response schemas).

The app is built at import time (Schemathesis needs the schema when the module is collected):
a throwaway SQLite instance with an issuer, one achievement, a few awards and an admin token.
Verification runs offline (``VCAPI_OFFLINE``) so that generated did:web / https references
never reach the network.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.issuer.web.api.test_api import build_app, make_settings, make_tokens, seed_issuer

_FOLDER = Path(tempfile.mkdtemp(prefix="microcred-api-fuzz-"))
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)

app = build_app(make_settings(_FOLDER, f"sqlite:///{_FOLDER / 'fuzz.sqlite'}"), VCAPI_OFFLINE=True)
seed_issuer(app)
ADMIN = make_tokens(app)["admin"]
_client = app.test_client()
for _email in ("ana@example.com", "ben@example.com"):
    _client.post("/api/v1/awards", json={"achievement": "teamwork", "email": _email},
                 headers={"Authorization": f"Bearer {ADMIN}"})

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_5xx_and_answers_match_the_document(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN}"}, checks=CHECKS)
