"""The OpenAPI 3.1 description of the API (``/api/v1/openapi.json``)."""
from __future__ import annotations

import json

from flask import Response

from issuer.web.api.common import bp, settings
from issuer.web.openapi import openapi


@bp.get("/openapi.json")
def openapi_document() -> Response:
    response = Response(json.dumps(openapi(settings().base_url), ensure_ascii=False), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
