"""``microcred worker``: run background tasks from the PostgreSQL queue (bulk jobs, emails, schedules).

    MICROCRED_QUEUE=postgres DATABASE_URL=postgresql://... microcred worker --concurrency 2

A thin shell over :func:`issuer.tasks.pg_queue.run_worker` with this installation's services
(:func:`issuer.tasks.handlers.task_handlers`). Run as many as the work needs, on any machine that
reaches the database and the keys folder: each takes tasks one at a time per slot, a task that
dies with its worker is given to another, and the periodic tasks (expiry reminders, email
retries, status lists, retention) are started once per tick however many run. With the embedded
default (``MICROCRED_QUEUE`` unset) there is nothing to run: ``microcred serve`` does the work.
"""
from __future__ import annotations

import click
from sqlalchemy.engine import make_url

from issuer.cli.support import clean_errors, own_services
from issuer.config import load_settings
from issuer.errors import ConfigError
from issuer.personal_data import logs, logs_json
from issuer.tasks.handlers import task_handlers
from issuer.tasks.names import QUEUE_ENV, QueueKind
from issuer.tasks.pg_queue import run_worker


@click.command("worker")
@click.option("--concurrency", type=click.IntRange(1, 32), default=1, show_default=True,
              help="Tasks run at once by this worker (each bulk job also signs on every core).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              envvar="MICROCRED_LOG_FORMAT", help="json: one JSON object a line.")
def worker(concurrency: int, log_format: str) -> None:
    """Run background work from the PostgreSQL queue: bulk jobs, emails, reminders (MICROCRED_QUEUE=postgres)."""
    with clean_errors():
        settings = load_settings()
        if QueueKind.from_setting(settings.queue) is not QueueKind.POSTGRES:
            raise ConfigError(f"microcred worker runs the PostgreSQL queue: set {QUEUE_ENV}=postgres and a "
                              "PostgreSQL DATABASE_URL on the app servers and the workers. With the embedded "
                              "default, microcred serve does the background work itself.", code="no_queue")
        with own_services(settings) as services:
            services.setup.check_ready()
            where = make_url(settings.database_url).render_as_string(hide_password=True)
            click.echo(f"worker: {concurrency} task(s) at once, queue in {where} (stop with Ctrl-C or SIGTERM)")
            if log_format == "json":
                logs_json.install_json_logging()
            else:
                logs.install_app_logging()       # the issuer's warnings and errors, addresses redacted
            run_worker(settings.database_url,
                       task_handlers(bulk=services.bulk, mail=services.mail, status=services.status,
                                     people=services.people, employees=services.employees),
                       concurrency=concurrency)
