"""The issuer's service layer: one object per use case, built once with the runtime's ports.

    services = build_services(Runtime(settings, sessions, clock=clock, transport=transport))
    issued = services.awards.issue(body, actor="api:token-1")

:func:`issuer.web.app.create_app` builds it once (``app.extensions["microcred"].services``) and
so does the CLI's context (:func:`issuer.cli.support.cli_services`). Views and commands parse
their input, call one service function and render or serialise what it returns; only the
services (and the modules under them) reach the database.
"""
from __future__ import annotations

from dataclasses import dataclass

from issuer.access.service import AccessService
from issuer.achievements.service import AchievementService
from issuer.awards.allocation import StatusIndexes
from issuer.awards.search_service import AwardSearchService
from issuer.awards.service import AwardService
from issuer.awards.status_service import StatusService
from issuer.awards.vcapi_service import VcapiService
from issuer.bulk.service import BulkService
from issuer.employees.service import EmployeeService
from issuer.keys.service import KeyService
from issuer.mail.service import MailService
from issuer.personal_data.service import PersonalDataService
from issuer.public_service import PublicService
from issuer.runtime import Runtime
from issuer.setup_service import SetupService
from issuer.sharing_service import SharingService
from issuer.skills.service import SkillService
from issuer.tasks.handlers import task_handlers


@dataclass(frozen=True)
class Services:
    runtime: Runtime
    indexes: StatusIndexes              # the process's one owner of status list indexes
    awards: AwardService
    status: StatusService
    search: AwardSearchService
    vcapi: VcapiService
    achievements: AchievementService
    public: PublicService
    mail: MailService
    bulk: BulkService
    keys: KeyService
    access: AccessService
    setup: SetupService
    sharing: SharingService
    people: PersonalDataService       # personal data: export, erasure, retention
    employees: EmployeeService          # the employees' own space (/me)
    skills: SkillService                # skill frameworks and their catalogues (issue 14)


def build_services(runtime: Runtime) -> Services:
    indexes = StatusIndexes()
    services = Services(
        runtime=runtime, indexes=indexes, awards=AwardService(runtime, indexes),
        status=StatusService(runtime, indexes),
        search=AwardSearchService(runtime),
        vcapi=VcapiService(runtime, indexes),
        achievements=AchievementService(runtime),
        public=PublicService(runtime),
        mail=MailService(runtime),
        bulk=BulkService(runtime, indexes),
        keys=KeyService(runtime, indexes),
        access=AccessService(runtime),
        setup=SetupService(runtime, indexes),
        sharing=SharingService(runtime, PublicService(runtime)),
        people=PersonalDataService(runtime),
        employees=EmployeeService(runtime, PublicService(runtime)),
        skills=SkillService(runtime),
    )
    runtime.queue.bind(task_handlers(bulk=services.bulk, mail=services.mail, status=services.status,
                                     people=services.people, employees=services.employees))
    return services
