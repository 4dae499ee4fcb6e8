"""The OpenAPI 3.1 description of ``/api/v1`` and the VC-API endpoints, served at ``/api/v1/openapi.json``.

Written by hand next to the views (:mod:`issuer.web.api`, :mod:`issuer.web.vcapi`); a test
walks the app's URL map and checks that every route is documented here and that every
operation documented here exists, and Schemathesis checks the responses against it.
"""
from __future__ import annotations

from typing import Any

from issuer.awards.states import AWARD_STATES

API = "/api/v1"
VERSION = "1.0.0"
PROBLEM = "application/problem+json"
JSON = "application/json"
ERROR_STATUSES = {
    "400": "The request is malformed (bad JSON, bad query parameter, bad header).",
    "401": "No API token, or an unknown or revoked one.",
    "403": "The token's scope is too small for this operation.",
    "404": "There is no such object (for this issuer).",
    "409": "The request conflicts with the current state (duplicate slug, invalid state change).",
    "413": "The body is too large (JSON: 2 MiB; CSV: 10 MiB).",
    "415": "The body has the wrong media type.",
    "422": "The request is well-formed but its content is not valid.",
    "429": "Too many requests with this token (see Retry-After).",
    "503": "The issuer is not set up yet, or the database is unavailable.",
}


STRING = {"type": "string"}
N_STRING = {"type": ["string", "null"]}
DATETIME = {"type": "string", "format": "date-time"}
N_DATETIME = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _schemas() -> dict:
    alignment = {
        "type": "object", "additionalProperties": False, "required": ["targetName", "targetUrl"],
        "properties": {k: {"type": "string", "maxLength": 2048} for k in (
            "targetName", "targetUrl", "targetDescription", "targetFramework", "targetCode", "targetType")},
    }
    result_description = {"type": "object", "required": ["id", "name", "resultType"],
                          "properties": {"id": STRING, "name": STRING, "resultType": STRING}}
    achievement_props = {
        "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,99}$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": {"type": "string", "minLength": 1, "maxLength": 20000},
        "criteria_narrative": {"type": ["string", "null"], "maxLength": 20000},
        "criteria_url": {"type": ["string", "null"], "maxLength": 1024},
        "image": {"type": ["string", "null"], "description": "An https URL or a data: URI of a PNG or SVG."},
        "achievement_type": {"type": ["string", "null"], "maxLength": 64},
        "validity_months": {"type": ["integer", "null"], "minimum": 1, "maximum": 600},
        "version": {"type": ["string", "null"], "maxLength": 32},
        "alignments": {"type": "array", "items": _ref("Alignment"), "maxItems": 50},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100}, "maxItems": 50},
        "result_descriptions": {"type": "array", "items": _ref("ResultDescription"), "maxItems": 20},
    }
    person = {"type": "object", "required": ["id", "email"],
              "properties": {"id": STRING, "email": STRING, "name": N_STRING}}
    recipient = {"type": "object", "required": ["id", "email", "name", "employee_id", "did", "created_at"],
                 "properties": {"id": STRING, "email": STRING, "name": N_STRING, "employee_id": N_STRING,
                                "did": N_STRING, "created_at": DATETIME}}
    award = {
        "type": "object",
        "required": ["id", "state", "expired", "achievement", "recipient", "awarded_at", "valid_from",
                     "valid_until", "created_at", "credential_url"],
        "properties": {
            "id": STRING, "state": {"type": "string", "enum": list(AWARD_STATES)}, "state_reason": N_STRING,
            "expired": {"type": "boolean"},
            "achievement": {"type": "object", "required": ["id", "slug", "name"],
                            "properties": {"id": STRING, "slug": STRING, "name": STRING}},
            "recipient": {"type": "object", "required": ["id", "email"],
                          "properties": {"id": STRING, "email": STRING, "name": N_STRING,
                                         "employee_id": N_STRING}},
            "awarded_at": DATETIME, "valid_from": DATETIME, "valid_until": N_DATETIME, "created_at": DATETIME,
            "superseded_by": N_STRING,
            "evidence": {"type": "array", "items": {"type": "object"}},
            "results": {"type": "array", "items": {"type": "object"}},
            "credential_url": {"type": "string", "format": "uri"},
            "credential_jwt_url": {"type": ["string", "null"]},
            "credential": {"type": ["object", "null"], "description": "The signed credential (one award only)."},
        },
    }
    evidence = {"type": "object", "additionalProperties": False, "minProperties": 1,
                "properties": {"id": {"type": "string", "maxLength": 2048},
                               **{k: {"type": "string", "maxLength": 10000}
                                  for k in ("narrative", "name", "description", "genre", "audience")}}}
    result = {"type": "object", "additionalProperties": False, "minProperties": 1,
              "properties": {k: {"type": "string", "maxLength": 1024}
                             for k in ("resultDescription", "value", "achievedLevel", "status")}}
    return {
        "Problem": {
            "type": "object", "required": ["title", "status", "detail"],
            "properties": {"title": STRING, "status": {"type": "integer"}, "detail": STRING, "code": STRING,
                           "field": STRING, "errors": {"type": "array"}},
        },
        "Alignment": alignment,
        "ResultDescription": result_description,
        "AchievementInput": {"type": "object", "additionalProperties": False,
                             "required": ["slug", "name", "description"], "properties": achievement_props},
        "AchievementReplacement": {"type": "object", "additionalProperties": False,
                                   "required": ["name", "description"], "properties": achievement_props,
                                   "description": "The whole new definition; 'slug', if given, must be the "
                                                  "achievement's own."},
        "Achievement": {
            "type": "object", "required": ["id", "slug", "name", "description", "url", "created_at"],
            "properties": {
                "id": STRING, "slug": STRING, "name": STRING, "description": STRING,
                "criteria_narrative": N_STRING, "criteria_url": N_STRING, "image": N_STRING,
                "achievement_type": N_STRING, "validity_months": {"type": ["integer", "null"]}, "version": N_STRING,
                "alignments": {"type": "array", "items": {"type": "object"}},
                "tags": {"type": "array", "items": STRING},
                "result_descriptions": {"type": "array", "items": {"type": "object"}},
                "url": {"type": "string", "format": "uri"}, "created_at": DATETIME,
            },
        },
        "AchievementList": {"type": "object", "required": ["items"],
                            "properties": {"items": {"type": "array", "items": _ref("Achievement")}}},
        "Evidence": evidence,
        "Result": result,
        "AwardInput": {
            "type": "object", "additionalProperties": False, "required": ["achievement", "email"],
            "properties": {
                "achievement": {"type": "string", "minLength": 1, "maxLength": 100,
                                "description": "Achievement slug or id."},
                "email": {"type": "string", "minLength": 3, "maxLength": 320},
                "name": {"type": ["string", "null"], "maxLength": 255},
                "employee_id": {"type": ["string", "null"], "maxLength": 100},
                "did": {"type": ["string", "null"], "maxLength": 255},
                "evidence": {"type": ["array", "null"], "items": _ref("Evidence"), "maxItems": 20},
                "results": {"type": ["array", "null"], "items": _ref("Result"), "maxItems": 20},
                "awarded_at": {"type": ["string", "null"], "format": "date-time"},
                "jwt": {"type": "boolean", "description": "Also store a VC-JWT version."},
            },
        },
        "Award": award,
        "AwardPage": {"type": "object", "required": ["items", "next_cursor"],
                      "properties": {"items": {"type": "array", "items": _ref("Award")},
                                     "next_cursor": N_STRING}},
        "StatusChangeInput": {"type": "object", "additionalProperties": False, "required": ["reason"],
                              "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 1000}}},
        "StatusChange": {"type": "object", "required": ["id", "action", "state", "changed"],
                         "properties": {"id": STRING, "action": STRING,
                                        "state": {"type": "string", "enum": list(AWARD_STATES)},
                                        "changed": {"type": "boolean"}}},
        "BulkOutcome": {
            "type": "object", "required": ["dry_run", "ok", "total_rows"],
            "properties": {
                "dry_run": {"type": "boolean"}, "ok": {"type": "boolean"}, "total_rows": {"type": "integer"},
                "to_issue": {"type": "integer"}, "issued": {"type": "integer"},
                "already_issued": {"type": "integer"},
                "problems": {"type": "array", "items": {"type": "object", "properties": {
                    "line": {"type": "integer"}, "reason": STRING}}},
                "rejected": {"type": "array", "description": "mode=valid-rows: the rows not issued", "items": {
                    "type": "object", "properties": {"line": {"type": "integer"}, "reason": STRING}}},
                "awards": {"type": "array", "items": {"type": "object", "properties": {
                    "line": {"type": "integer"}, "award_id": STRING, "credential_url": STRING,
                    "created": {"type": "boolean"}}}},
            },
        },
        "BulkJob": {
            "type": "object",
            "required": ["id", "url", "state", "filename", "done", "total", "counts", "created_at", "results_url"],
            "properties": {
                "id": STRING, "url": STRING,
                "state": {"type": "string", "enum": ["validated", "queued", "running", "done", "failed"]},
                "filename": STRING, "done": {"type": "integer"}, "total": {"type": "integer"},
                "counts": {"type": "object", "description": "rows, ready, already_issued, errors; when done also "
                                                            "issued and seconds"},
                "error": N_STRING, "created_by": STRING, "created_at": DATETIME, "started_at": N_DATETIME,
                "finished_at": N_DATETIME, "results_url": N_STRING,
            },
        },
        "Recipient": recipient,
        "RecipientDetail": {"allOf": [_ref("Recipient"), {
            "type": "object", "required": ["awards"],
            "properties": {"awards": {"type": "array", "items": _ref("Award")}}}]},
        "VcapiCredential": {
            "type": "object",
            "required": ["id", "credential_id", "signed_as", "types", "actor", "token_id", "state", "created_at",
                         "status", "credential"],
            "properties": {
                "id": {"type": "string", "description": "The record's id (a UUID)."},
                "credential_id": {**N_STRING, "description": "The signed credential's id (null: it has none)."},
                "signed_as": {**STRING, "description": "The issuer identity it was signed as (did:web or did:key)."},
                "types": {"type": "array", "items": STRING},
                "actor": {**STRING, "description": "Who asked: the API token (id and name)."},
                "token_id": N_STRING,
                "state": {"type": "string", "enum": ["active", "suspended", "revoked"]},
                "state_reason": N_STRING,
                "created_at": DATETIME,
                "status": {"type": "array", "description": "Its entries on the issuer's status lists (none in "
                                                           "did:key suite mode).",
                           "items": {"type": "object", "required": ["purpose", "list", "index"],
                                     "properties": {"purpose": STRING, "list": {"type": "integer"},
                                                    "index": {"type": "integer"}}}},
                "credential": {"type": "object", "description": "The signed credential, exactly as issued."},
            },
        },
        "VcapiCredentialPage": {"type": "object", "required": ["items", "next_cursor"],
                                "properties": {"items": {"type": "array", "items": _ref("VcapiCredential")},
                                               "next_cursor": N_STRING}},
        "RecipientPage": {"type": "object", "required": ["items", "next_cursor"],
                          "properties": {"items": {"type": "array", "items": _ref("Recipient")},
                                         "next_cursor": N_STRING}},
        "SkillsInventory": {
            "type": "object", "required": ["as_of", "items"],
            "properties": {"as_of": DATETIME, "items": {"type": "array", "items": {
                "type": "object", "required": ["name", "people", "achievements"],
                "properties": {"name": STRING, "framework": N_STRING, "target_url": N_STRING,
                               "target_code": N_STRING, "people": {"type": "integer", "minimum": 0},
                               "achievements": {"type": "array", "items": STRING}}}}},
        },
        "SkillCoverage": {
            "type": "object", "required": ["as_of", "skills", "unknown_skills", "has_all", "people"],
            "properties": {
                "as_of": DATETIME, "skills": {"type": "array", "items": STRING},
                "unknown_skills": {"type": "array", "items": STRING},
                "has_all": {"type": "array", "items": person},
                "people": {"type": "array", "items": {
                    "type": "object", "required": ["recipient", "has", "missing"],
                    "properties": {"recipient": person, "has": {"type": "array", "items": STRING},
                                   "missing": {"type": "array", "items": STRING}}}},
            },
        },
        "IssueCredentialRequest": {
            "type": "object", "required": ["credential"],
            "properties": {"credential": {"type": "object", "description": "An unsigned VC 2.0 (or 1.1) "
                                          "credential whose issuer is this endpoint's issuer."},
                           "options": {"type": ["object", "null"]}},
        },
        "IssueCredentialResponse": {"type": "object", "required": ["verifiableCredential"],
                                    "properties": {"verifiableCredential": {"type": "object"}}},
        "VerifyCredentialRequest": {
            "type": "object", "required": ["verifiableCredential"],
            "properties": {"verifiableCredential": {"type": "object"}, "options": {"type": ["object", "null"]}},
        },
        "VerifyPresentationRequest": {
            "type": "object", "required": ["verifiablePresentation"],
            "properties": {"verifiablePresentation": {"type": "object"}, "options": {
                "type": ["object", "null"],
                "properties": {"challenge": STRING, "domain": {"type": ["string", "array"]}}}},
        },
        "VerificationResult": {
            "type": "object", "required": ["verified", "checks", "warnings", "errors"],
            "properties": {"verified": {"type": "boolean"}, "checks": {"type": "array", "items": STRING},
                           "warnings": {"type": "array"}, "errors": {"type": "array"}},
        },
    }


def _errors(*extra: str) -> dict:
    responses = {code: {"$ref": f"#/components/responses/E{code}"} for code in ERROR_STATUSES}
    for code in extra:
        responses[code] = {"$ref": f"#/components/responses/E{code}"}
    responses["default"] = {"$ref": "#/components/responses/Error"}
    return responses


def _json(schema_name: str, description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {JSON: {"schema": _ref(schema_name)}}}
    if headers:
        response["headers"] = headers
    return response


def _body(schema_name: str, *, required: bool = True) -> dict:
    return {"required": required, "content": {JSON: {"schema": _ref(schema_name)}}}


def _param(name: str, where: str, schema: dict, description: str, *, required: bool = False, **extra) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema,
            "description": description, **extra}


LIMIT = _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
               "Items per page.")
CURSOR = _param("cursor", "query", {"type": "string", "maxLength": 200}, "The next_cursor of the previous page.")
LOCATION = {"Location": {"schema": {"type": "string"}, "description": "The new object's API URL."}}


def _op(operation_id: str, summary: str, scope: str | None, responses: dict, *, tags: list[str],
        parameters: list | None = None, body: dict | None = None, errors: tuple[str, ...] = ()) -> dict:
    op: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": tags,
                          "responses": {**responses, **_errors(*errors)}}
    if scope is None:
        op["security"] = []
    else:
        op["description"] = (f"Needs a token with the `{scope}` scope (read < issue < admin)." if scope != "vcapi-issue"
                             else "Off unless the installation sets MICROCRED_VCAPI_ISSUING=1 (403 otherwise); needs "
                                  "a token with the `vcapi-issue` scope, which no other scope includes.")
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = body
    return op


def _status_op(action: str) -> dict:
    return {"post": _op(f"{action}Award", f"{action.capitalize()} an award (reason kept in the audit log)",
                        "issue", {"200": _json("StatusChange", "The award's new state.")},
                        tags=["awards"], parameters=[AWARD_ID], body=_body("StatusChangeInput"))}


def _vcapi_status_op(action: str) -> dict:
    return {"post": _op(f"{action}VcapiCredential",
                        f"{action.capitalize()} a credential signed through the VC-API (reason kept in the audit log)",
                        "issue", {"200": _json("StatusChange", "The credential's new state.")},
                        tags=["vc-api"], parameters=[VCAPI_RECORD_ID], body=_body("StatusChangeInput"))}


AWARD_ID = _param("award_id", "path", {"type": "string"}, "The award's id (a UUID).")
VCAPI_RECORD_ID = _param("record_id", "path", {"type": "string"}, "The VC-API credential's record id (a UUID).")
ACHIEVEMENT_REF = _param("ref", "path", {"type": "string"}, "Achievement id or slug.")
JOB_ID = _param("job_id", "path", {"type": "string"}, "The bulk job's id (a UUID).")


def _paths() -> dict:
    return {
        f"{API}/openapi.json": {"get": _op(
            "openapi", "This OpenAPI document", None,
            {"200": {"description": "OpenAPI 3.1", "content": {JSON: {"schema": {"type": "object"}}}}},
            tags=["meta"])},
        f"{API}/achievements": {
            "get": _op("listAchievements", "Every achievement of this issuer", "read",
                       {"200": _json("AchievementList", "Achievements, by slug.")}, tags=["achievements"]),
            "post": _op("createAchievement", "Define an achievement (the same rules as 'microcred achievements "
                        "create', plus a dry-run issuance)", "admin",
                        {"201": _json("Achievement", "Created.", LOCATION)}, tags=["achievements"],
                        body=_body("AchievementInput")),
        },
        f"{API}/achievements/{{ref}}": {
            "get": _op("getAchievement", "One achievement, by id or slug", "read",
                       {"200": _json("Achievement", "The achievement.")}, tags=["achievements"],
                       parameters=[ACHIEVEMENT_REF]),
            "put": _op("replaceAchievement", "Replace an achievement's definition (same rules as creating; the "
                       "slug cannot change); awards issued from now on carry it", "admin",
                       {"200": _json("Achievement", "The new definition.")}, tags=["achievements"],
                       parameters=[ACHIEVEMENT_REF], body=_body("AchievementReplacement")),
        },
        f"{API}/awards": {
            "get": _op("listAwards", "Awards, newest first, with filters and cursor pagination", "read",
                       {"200": _json("AwardPage", "One page of awards.",
                                     {"Link": {"schema": {"type": "string"}, "description": 'rel="next"'}})},
                       tags=["awards"], parameters=[
                           LIMIT, CURSOR,
                           _param("achievement", "query", {"type": "string", "maxLength": 100},
                                  "Achievement slug or id."),
                           _param("state", "query", {"type": "string", "enum": list(AWARD_STATES)}, "Award state."),
                           _param("email", "query", {"type": "string", "maxLength": 320}, "Recipient email."),
                           _param("expiring_within_days", "query", {"type": "integer", "minimum": 0,
                                                                    "maximum": 3650},
                                  "Only active awards whose validity ends within this many days."),
                       ]),
            "post": _op("issueAward", "Issue one award: build, sign, self-verify, store", "issue",
                        {"201": _json("Award", "Issued.", LOCATION),
                         "200": _json("Award", "Issued before: the same request (or Idempotency-Key).",
                                      {"Idempotent-Replayed": {"schema": {"type": "string"}}})},
                        tags=["awards"], body=_body("AwardInput"), parameters=[
                            _param("Idempotency-Key", "header",
                                   {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
                                   "A retried request with the same key never issues twice.")]),
        },
        f"{API}/awards/bulk": {"post": _op(
            "bulkIssue", "Issue one award per CSV row (docs/bulk-csv.md); nothing if any row is bad", "issue",
            {"200": _json("BulkOutcome", "Dry run (all rows valid), or every row issued before."),
             "201": _json("BulkOutcome", "Issued."),
             "202": _json("BulkJob", "With async=true: the job, issuing in the background (poll its url).",
                          LOCATION)},
            tags=["awards"],
            parameters=[_param("dry_run", "query", {"type": "boolean"}, "Only check the rows; issue nothing."),
                        _param("async", "query", {"type": "boolean"},
                               "Answer at once (202) and issue in the background as a bulk job."),
                        _param("mode", "query", {"type": "string", "enum": ["all-or-nothing", "valid-rows"],
                                                 "default": "all-or-nothing"},
                               "With bad rows: issue nothing (422), or issue the valid rows and list the others.")],
            body={"required": True, "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string", "format": "binary"}}}}}})},
        f"{API}/bulk-jobs/{{job_id}}": {"get": _op(
            "getBulkJob", "A bulk job started with async=true (or in the console): state and progress", "read",
            {"200": _json("BulkJob", "The job.")}, tags=["awards"], parameters=[JOB_ID])},
        f"{API}/bulk-jobs/{{job_id}}/cancel": {"post": _op(
            "cancelBulkJob", "Stop a waiting or running job after the chunk it is issuing (awards issued stay)",
            "issue", {"202": _json("BulkJob", "The job, cancelled or cancelling."),
                      "409": {"description": "The job neither waits nor runs."}},
            tags=["awards"], parameters=[JOB_ID])},
        f"{API}/bulk-jobs/{{job_id}}/start": {"post": _op(
            "startBulkJob", "Start again a failed or cancelled job: rows issued before are not issued twice",
            "issue", {"202": _json("BulkJob", "The job, queued."),
                      "409": {"description": "The job runs, waits, is done or has rows with problems."}},
            tags=["awards"], parameters=[JOB_ID])},
        f"{API}/bulk-jobs/{{job_id}}/rejected": {"get": _op(
            "getBulkJobRejected", "The job's rows with problems: line, reason and the row's cells, as CSV", "read",
            {"200": {"description": "The rejected rows CSV.", "content": {"text/csv": {"schema": {"type": "string"}}}}},
            tags=["awards"], parameters=[JOB_ID])},
        f"{API}/bulk-jobs/{{job_id}}/results": {"get": _op(
            "getBulkJobResults", "The finished job's result CSV: each row's award and credential URL", "read",
            {"200": {"description": "The result CSV.", "content": {"text/csv": {"schema": {"type": "string"}}}}},
            tags=["awards"], parameters=[JOB_ID])},
        f"{API}/awards/{{award_id}}": {"get": _op(
            "getAward", "One award, with its signed credential", "read",
            {"200": _json("Award", "The award.")}, tags=["awards"], parameters=[AWARD_ID])},
        f"{API}/awards/{{award_id}}/revoke": _status_op("revoke"),
        f"{API}/awards/{{award_id}}/suspend": _status_op("suspend"),
        f"{API}/awards/{{award_id}}/unsuspend": _status_op("unsuspend"),
        f"{API}/awards/{{award_id}}/renew": {"post": _op(
            "renewAward", "Issue a fresh credential for the same achievement and recipient", "issue",
            {"201": _json("Award", "The new award.", LOCATION),
             "200": _json("Award", "The renewal made before.", LOCATION)},
            tags=["awards"], parameters=[AWARD_ID],
            body={"required": False, "content": {JSON: {"schema": {"type": "object", "maxProperties": 0}}}})},
        f"{API}/recipients": {"get": _op(
            "listRecipients", "Recipients, newest first, with cursor pagination", "read",
            {"200": _json("RecipientPage", "One page of recipients.")}, tags=["recipients"],
            parameters=[LIMIT, CURSOR, _param("email", "query", {"type": "string", "maxLength": 320},
                                              "Recipient email.")])},
        f"{API}/vcapi-credentials": {"get": _op(
            "listVcapiCredentials", "Credentials signed through the VC-API, newest first, with who asked", "read",
            {"200": _json("VcapiCredentialPage", "One page of VC-API credentials.")}, tags=["vc-api"],
            parameters=[LIMIT, CURSOR, _param("state", "query", {"type": "string",
                                                                 "enum": ["active", "suspended", "revoked"]},
                                              "Only credentials in this state.")])},
        f"{API}/vcapi-credentials/{{record_id}}/revoke": _vcapi_status_op("revoke"),
        f"{API}/vcapi-credentials/{{record_id}}/suspend": _vcapi_status_op("suspend"),
        f"{API}/vcapi-credentials/{{record_id}}/unsuspend": _vcapi_status_op("unsuspend"),
        f"{API}/recipients/{{recipient_id}}": {"get": _op(
            "getRecipient", "One recipient with their awards", "read",
            {"200": _json("RecipientDetail", "The recipient.")}, tags=["recipients"],
            parameters=[_param("recipient_id", "path", {"type": "string"}, "The recipient's id (a UUID).")])},
        f"{API}/skills": {"get": _op(
            "skillsInventory", "People per skill (alignment name + framework), from active, valid awards",
            "read", {"200": _json("SkillsInventory", "Skills, most common first.")}, tags=["skills"])},
        f"{API}/skills/coverage": {"get": _op(
            "skillCoverage", "Who has every skill asked for, and who misses which", "read",
            {"200": _json("SkillCoverage", "Coverage of the skills asked for.")}, tags=["skills"],
            parameters=[_param("skill", "query", {"type": "array", "minItems": 1, "maxItems": 50,
                                                  "items": {"type": "string", "minLength": 1, "maxLength": 1024}},
                               "A skill name, target URL or code; repeat for several.", required=True,
                               style="form", explode=True)])},
        "/credentials/issue": {"post": _op(
            "vcapiIssueCredential", "VC-API: sign a credential (eddsa-rdfc-2022) as this issuer; recorded, with "
            "the issuer's id and status entries", "vcapi-issue",
            {"201": _json("IssueCredentialResponse", "The signed credential.")}, tags=["vc-api"],
            body=_body("IssueCredentialRequest"))},
        "/credentials/verify": {"post": {**_op(
            "vcapiVerifyCredential", "VC-API: verify a credential", "read",
            {"200": _json("VerificationResult", "Verified.")}, tags=["vc-api"],
            body=_body("VerifyCredentialRequest")), "security": [{"bearerAuth": []}, {}]}},
        "/presentations/verify": {"post": {**_op(
            "vcapiVerifyPresentation", "VC-API: verify a presentation and every credential in it", "read",
            {"200": _json("VerificationResult", "Verified.")}, tags=["vc-api"],
            body=_body("VerifyPresentationRequest")), "security": [{"bearerAuth": []}, {}]}},
    }


def _responses() -> dict:
    problem = {PROBLEM: {"schema": _ref("Problem")}}
    responses = {f"E{code}": {"description": text, "content": problem} for code, text in ERROR_STATUSES.items()}
    responses["Error"] = {"description": "An error (RFC 9457 problem details).", "content": problem}
    return responses


def openapi(base_url: str | None = None) -> dict:
    """The OpenAPI 3.1 document (``servers`` is ``base_url`` when given)."""
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "microcred issuer API", "version": VERSION,
            "description": "HR REST API (achievements, awards, recipients, skills, bulk issuance) and the W3C "
                           "VC-API endpoints. Errors are RFC 9457 problem details. Tokens: 'microcred tokens "
                           "create --scope read|issue|admin|vcapi-issue'.",
        },
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "responses": _responses(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API token from 'microcred tokens create'."}},
        },
        "security": [{"bearerAuth": []}],
    }
    if base_url:
        document["servers"] = [{"url": base_url}]
    return document


def documented_operations(document: dict | None = None) -> set[tuple[str, str]]:
    """Every (path, METHOD) the document describes."""
    document = document or openapi()
    return {(path, method.upper()) for path, item in document["paths"].items() for method in item
            if method in ("get", "put", "post", "delete", "patch")}
