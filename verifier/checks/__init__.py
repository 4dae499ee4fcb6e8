"""The verifier's checks: one module a check, each a function returning a :class:`CheckResult`.

:mod:`verifier.verify` runs them in order (:data:`verifier.registry.CHECK_ORDER`); each takes
the credential (a JSON dict, as received) and the :class:`~verifier.checks.base.Verification`
it belongs to (clock, fetcher, engine, options). A check never raises for a bad credential:
every problem is a result with a registered reason code.
"""
