"""What each background task does: the same service calls whichever queue runs them.

    queue.bind(task_handlers(bulk=services.bulk, mail=services.mail, status=services.status,
                             people=services.people, employees=services.employees))

Every handler may run more than once for the same request (a worker killed half-way, a periodic
tick seen by two schedulers): each one is safe to repeat. A bulk job issues only the rows not
issued yet; an email is claimed before it is sent; a reminder is queued once per award (its
outbox key); status lists are signed again only when the current key did not sign them.
"""
from __future__ import annotations

import logging
import os

from issuer.awards.status_service import StatusService
from issuer.bulk.service import BulkService
from issuer.employees.service import EmployeeService
from issuer.mail.service import MailService
from issuer.personal_data.service import PersonalDataService
from issuer.tasks.names import DEFAULT_REMIND_DAYS, REMIND_DAYS_ENV, TaskName
from issuer.tasks.queue import Handler

log = logging.getLogger(__name__)


def remind_days() -> int:
    """How many days ahead expiry reminders look (``MICROCRED_REMIND_DAYS``, 30)."""
    value = os.environ.get(REMIND_DAYS_ENV, "")
    return int(value) if value.isdigit() and 0 < int(value) <= 365 else DEFAULT_REMIND_DAYS


def task_handlers(*, bulk: BulkService, mail: MailService, status: StatusService,
                  people: PersonalDataService, employees: EmployeeService) -> dict[TaskName, Handler]:
    def run_bulk_job(job_id: str, actor: str) -> None:
        bulk.jobs.run(job_id, actor)

    def deliver_mail() -> None:
        delivery = mail.deliver_pending()
        if delivery.failed:
            log.warning("%d email(s) could not be sent; they stay queued for a retry", delivery.failed)
        employees.forget_sent_links()         # sign-in links are not kept once sent

    def remind_expiring() -> None:
        reminded = mail.remind_expiring(remind_days())
        log.info("expiry reminders queued: %d", reminded.queued)

    def publish_status_lists() -> None:
        log.info("status lists signed again: %d", status.republish_lists())

    def retention_purge() -> None:
        purged = people.purge()
        log.info("retention: %s", purged)

    return {TaskName.BULK_JOB: run_bulk_job, TaskName.DELIVER_MAIL: deliver_mail,
            TaskName.REMIND_EXPIRING: remind_expiring, TaskName.PUBLISH_STATUS_LISTS: publish_status_lists,
            TaskName.RETENTION_PURGE: retention_purge}
