"""The 1EdTech JSON Schema check for Open Badges 3.0 credentials.

``validate_credential`` picks the bundled schema by the credential's ``type`` and validates
with JSON Schema draft 2019-09, format checking on, nothing fetched
(:mod:`verifier.schema_bundle`: loading and compiling the schemas), and returns
plain-language violations with JSON-pointer paths (:mod:`verifier.schema_messages`). The
bundled schemas' verdicts are tested against the official ones (tests/verifier/test_schema.py).
"""
from __future__ import annotations

from .schema_bundle import (
    fast_validator_for_credential,
    likely_form_validator,
    schema_for,
    validator_for,
    validator_for_credential,
)
from .schema_messages import SchemaViolation, explain

__all__ = ["SchemaViolation", "validate_credential"]

_NOT_OB3 = ("not an Open Badges 3.0 credential: type must include 'OpenBadgeCredential', "
            "'AchievementCredential' or 'EndorsementCredential'")


def validate_credential(credential: object) -> list[SchemaViolation]:
    """Check ``credential`` against the bundled OB 3.0 schema for its type.

    Returns [] when it is valid; otherwise one SchemaViolation per problem found.
    A credential that is not an OB 3.0 credential (see ``schema_for``) gets a single
    violation at "/type".
    """
    if not isinstance(credential, dict):
        return [SchemaViolation("", "a credential must be a JSON object")]
    name = schema_for(credential)
    if name is None:
        return [SchemaViolation("/type", _NOT_OB3)]
    fast = fast_validator_for_credential(credential)
    if fast is not None and fast.is_valid(credential):
        return []
    validator = validator_for_credential(credential)
    if validator is None:  # pragma: no cover - schema_for named a schema above
        return [SchemaViolation("/type", _NOT_OB3)]
    if validator.is_valid(credential):
        return []
    if validator is validator_for(name):
        # The schema is anyOf [VC 2.0 form, VC 1.1 form] and neither fits: explain the
        # failure against the form this credential most likely meant.
        validator = likely_form_validator(credential)
    return explain(list(validator.iter_errors(credential)) or list(validator_for(name).iter_errors(credential)))
