"""The issuer's service layer: one object per use case, built once with the runtime's ports.

    services = build_services(Runtime(settings, sessions, clock=clock, transport=transport))
    issued = services.awards.issue(body, actor="api:token-1")

:func:`issuer.web.app.create_app` builds it once (``app.extensions["microcred"].services``) and
so does the CLI's context (:func:`issuer.cli.support.services`). Views and commands parse
their input, call one service function and render or serialise what it returns; only the
services (and the modules under them) reach the database.
"""
from __future__ import annotations

from dataclasses import dataclass

from issuer.awards.allocation import StatusIndexes
from issuer.awards.service import AwardService
from issuer.runtime import Runtime


@dataclass(frozen=True)
class Services:
    runtime: Runtime
    indexes: StatusIndexes              # the process's one owner of status list indexes
    awards: AwardService


def build_services(runtime: Runtime) -> Services:
    indexes = StatusIndexes()
    return Services(runtime=runtime, indexes=indexes, awards=AwardService(runtime, indexes))
