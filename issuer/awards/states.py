"""The states of an award, as the REST API, its OpenAPI document and the console name them.

``active`` (valid unless expired), ``suspended`` (its suspension bit is set; can be lifted),
``revoked`` (its revocation bit is set; for good), ``expired`` (past ``validUntil``), ``superseded``
(renewed or re-issued: the award it points to replaces it). The transitions are in
:mod:`issuer.awards.lifecycle`; storage keeps the same list (:data:`issuer.db.models.AWARD_STATES`).
"""
from __future__ import annotations

from issuer.db.models import AWARD_STATES

__all__ = ["AWARD_STATES"]
