"""Credentials signed through the VC-API: what issuing refuses, their ids and status entries, their records.

    errors = refusals(session, settings, credential, suite_mode=False, now=now)   # [] or why not
    document = accountable(document, credential_url(settings, record_id), entries)
    VCAPI                                     # how a status change finds a record (lifecycle.Holder)

Every credential ``POST /credentials/issue`` signs as the installation's own identity gets
the id ``{base_url}/credentials/{record id}`` and two ``BitstringStatusListEntry`` entries
on the issuer's revocation and suspension lists; their indexes come from the one owner of
status indexes (:class:`issuer.awards.allocation.StatusIndexes`), in the same
``status_allocations`` table as the awards', so an index is never shared with an award. A
:class:`VcapiCredential` row keeps the signed credential, the token that asked and its state.
Status changes are the awards' (:func:`issuer.awards.lifecycle.change_record_status` with
:data:`VCAPI`). :class:`issuer.awards.vcapi_service.VcapiService` runs the steps.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.awards.credentials import credential_url
from issuer.awards.lifecycle import Holder, Record
from issuer.config import Settings
from issuer.db.models import Award, StatusAllocation, StatusList, VcapiCredential
from issuer.errors import InvalidInput
from verifier.dates import DateError, parse_datetime
from verifier.errors import CredentialError
from verifier.jsonld import default_engine

STATES = ("active", "suspended", "revoked")
VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
DI_V2 = "https://w3id.org/security/data-integrity/v2"
STATUS_LIST_TYPES = ("BitstringStatusListCredential", "StatusList2021Credential", "RevocationList2020Credential",
                     "SuspensionList2020Credential")
DATE_SKEW = timedelta(minutes=5)      # how far validFrom / issuanceDate may be from now (did:web identity)
# An IRI as the data model requires: a scheme, then no whitespace or characters IRIs exclude.
IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20\x7f<>\"{}|\\^`]*$")


class VcapiRefused(InvalidInput):
    """The credential is not one the VC-API issues: every reason in ``errors`` (the first is the message)."""

    default_code = "invalid_credential"

    def __init__(self, errors: list[str], *, code: str | None = None) -> None:
        super().__init__(errors[0], code=code, details={"errors": errors})
        self.errors = errors


def _audit(record: Record, action: str, details: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    assert isinstance(record, VcapiCredential)  # noqa: S101 - VCAPI finds VC-API credentials
    return f"vcapi-{action}", None, {"vcapiCredential": record.id, "credential": record.credential_id, **details}


VCAPI = Holder(VcapiCredential, "VC-API credential", "a credential", "unknown_credential",
               StatusAllocation.vcapi_credential_id,
               "this credential has no status entries (it was signed in did:key suite mode), so it cannot be "
               "revoked or suspended", _audit)


def types_of(value: Any) -> list[Any]:
    """A ``type`` value as a list (a single string becomes a list of one)."""
    return [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def record_id_of(settings: Settings, credential_id: str) -> str | None:
    """The record id in ``{base_url}/credentials/{id}``, or None for any other URL."""
    prefix = credential_url(settings, "")
    return credential_id[len(prefix):] if credential_id.startswith(prefix) and "/" not in credential_id[len(prefix):] \
        else None


def id_in_use(session: Session, settings: Settings, credential_id: str) -> bool:
    """Whether ``credential_id`` already names a credential of this installation (an award or a VC-API one)."""
    if session.scalar(select(VcapiCredential.id).where(VcapiCredential.credential_id == credential_id).limit(1)):
        return True
    local = record_id_of(settings, credential_id)
    return bool(local) and (session.get(Award, local) is not None or session.get(VcapiCredential, local) is not None)


def _ours(settings: Settings, url: Any) -> bool:
    """Whether ``url`` is under this installation's base URL."""
    return isinstance(url, str) and (url == settings.base_url or url.startswith(settings.base_url.rstrip("/") + "/"))


def _dates(credential: dict[str, Any], now: datetime) -> list[str]:
    errors = []
    for name in ("validFrom", "issuanceDate"):
        if name not in credential:
            continue
        try:
            moment = parse_datetime(credential[name])
        except DateError:
            continue     # the data model check reports it
        if abs(moment - now) > DATE_SKEW:
            errors.append(f"{name} must be now (within {int(DATE_SKEW.total_seconds() // 60)} minutes): "
                          f"{credential[name]} is {'before' if moment < now else 'after'} that; credentials "
                          "cannot be backdated or post-dated")
    return errors


def refusals(session: Session, settings: Settings, credential: dict[str, Any], *, suite_mode: bool,
             now: datetime) -> list[str]:
    """What VC-API issuing refuses beyond the data model (see :mod:`issuer.web.vcapi`); empty: nothing."""
    errors: list[str] = []
    types = [t for t in types_of(credential.get("type")) if isinstance(t, str)]
    listed = [t for t in types if t in STATUS_LIST_TYPES or t.rsplit("#", 1)[-1] in STATUS_LIST_TYPES]
    if listed:
        errors.append(f"the issuer does not sign status list credentials ({listed[0]}) through the VC-API: "
                      f"it publishes its own lists")
    given_id = credential.get("id")
    # (in did:key suite mode the suites send the same fixed ids again and again: only this
    # installation's own namespace, where every award and did:web credential id is, is refused)
    if isinstance(given_id, str) and (_ours(settings, given_id) or
                                      (not suite_mode and id_in_use(session, settings, given_id))):
        errors.append(f"the id {given_id[:200]} is already the id of a credential of this issuer "
                      f"(or in its namespace); the issuer gives each new credential its own id")
    elif "id" in credential and not suite_mode:
        errors.append("leave 'id' out: the issuer gives each credential its own id, "
                      f"{credential_url(settings, '{uuid}')}")
    if "credentialStatus" in credential:
        statuses = [s for s in as_list(credential["credentialStatus"]) if isinstance(s, dict)]
        if any(_ours(settings, s.get("statusListCredential")) or _ours(settings, s.get("id")) for s in statuses):
            errors.append("credentialStatus names this issuer's status lists: the issuer allocates its own "
                          "entries; leave credentialStatus out")
        elif not suite_mode:
            errors.append("credentialStatus names a status list that is not this issuer's; leave it out: the "
                          "issuer adds its own revocation and suspension entries")
    if suite_mode:
        return errors
    if as_list(credential.get("@context"))[:1] == [VC_V1]:
        errors.append(f"only VC 2.0 credentials (first @context {VC_V2}) can be issued: the issuer adds "
                      "status entries, which the VC 1.1 context does not define")
    return errors + _dates(credential, now)


def accountable(document: dict[str, Any], credential_id: str, entries: list[dict[str, str]]) -> dict[str, Any]:
    """``document`` with the issuer's id (after @context) and status entries (at the end)."""
    result: dict[str, Any] = {}
    for key, value in document.items():
        result[key] = value
        if key == "@context":
            result["id"] = credential_id
    result.setdefault("id", credential_id)
    result["credentialStatus"] = entries
    return result


def _check_expanded_iris(node: Any, errors: list[str]) -> None:
    """IRIs that JSON-LD produced (from @context mappings) must be real IRIs, e.g. no spaces."""
    if isinstance(node, list):
        for item in node:
            _check_expanded_iris(item, errors)
        return
    if not isinstance(node, dict):
        return
    if "@value" in node:
        datatype = node.get("@type")
        if isinstance(datatype, str) and datatype != "@json" and not IRI.match(datatype):
            errors.append(f"the datatype {datatype[:100]!r} is not a valid IRI")
        return
    for type_ in node.get("@type", ()) if isinstance(node.get("@type"), list) else [node.get("@type")]:
        if isinstance(type_, str) and not (IRI.match(type_) or type_.startswith("_:")):
            errors.append(f"the type IRI {type_[:100]!r} is not a valid IRI")
    for key, value in node.items():
        if key.startswith("@"):
            if key in ("@graph", "@list", "@set", "@included", "@reverse"):
                _check_expanded_iris(value, errors)
            continue
        if not IRI.match(key):
            errors.append(f"the property IRI {key[:100]!r} is not a valid IRI")
        _check_expanded_iris(value, errors)


def check_json_ld(document: dict[str, Any]) -> list[str]:
    """Safe-mode expansion with the bundled contexts: nothing dropped, nothing unloadable, real IRIs."""
    try:
        expanded = default_engine().expand(document)
    except CredentialError as exc:
        return [str(exc)]
    errors: list[str] = []
    _check_expanded_iris(expanded, errors)
    return errors


def allocations(session: Session, record_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """record id -> its status entries as ``{"purpose", "list" (number), "index"}`` (by purpose)."""
    ids = list(record_ids)
    found: dict[str, list[dict[str, Any]]] = {record_id: [] for record_id in ids}
    if not ids:
        return found
    rows = session.execute(select(StatusAllocation.vcapi_credential_id, StatusList.purpose, StatusList.number,
                                  StatusAllocation.index)
                           .join(StatusList, StatusList.id == StatusAllocation.list_id)
                           .where(StatusAllocation.vcapi_credential_id.in_(ids))
                           .order_by(StatusList.purpose)).all()
    for record_id, purpose, number, index in rows:
        if record_id is not None:
            found[record_id].append({"purpose": purpose, "list": number, "index": index})
    return found

