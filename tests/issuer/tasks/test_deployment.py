"""A deployment as a company runs it (issue 15 §4): two app servers and one worker, real processes,
on one real PostgreSQL database and one Redis.

``microcred demo`` sets the installation up, ``microcred tokens create`` makes API tokens, two
``microcred serve`` processes answer on two ports (a load balancer would send each request to
either) and ``microcred worker`` processes run the background work (MICROCRED_QUEUE=postgres).
Driven over HTTP: an award issued through one server is served by the other and emailed by the
worker; a bulk job sent to one is followed on the other while its worker is killed with SIGKILL
and a new worker finishes it (every row once); one API rate limit across both servers.
"""
from __future__ import annotations

import collections
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from issuer.db.models import Award, OutboxMessage, Recipient
from issuer.db.models_staff import BulkJob
from tests.db_fixtures import throwaway_database
from tests.http_fixtures import unused_port
from tests.issuer.tasks.worker_support import (
    environment,
    kill_hard,
    start_worker,
    stop,
    wait_until,
)
from tests.verifier.test_web_serve import wait_for

pytestmark = pytest.mark.xdist_group("pg-queue")

ROWS = 2500
LIMIT = 20                 # API requests per token per minute, across both servers (Redis)
DEADLINE = 240


@pytest.fixture()
def deployment(tmp_path, postgres_url, redis_url):
    with throwaway_database(postgres_url, "microcred_q") as url:
        yield from _deployment(tmp_path, url, redis_url)


def _deployment(tmp_path, url: str, redis_url: str):
    ports = [unused_port(), unused_port()]
    env = {**os.environ, **environment(tmp_path, url), "MICROCRED_BASE_URL": f"http://127.0.0.1:{ports[0]}",
           "MICROCRED_RATELIMIT_STORAGE_URI": redis_url, "MICROCRED_API_RATE_LIMIT": f"{LIMIT}/minute"}
    microcred = [sys.executable, "-c", "from issuer.cli import main; main()"]
    subprocess.run([*microcred, "demo"], env=env, check=True, capture_output=True)
    tokens = [subprocess.run([*microcred, "tokens", "create", "--scope", "issue", "--name", name], env=env,
                             check=True, capture_output=True, text=True).stdout.strip() for name in ("work", "limit")]
    servers = [subprocess.Popen([*microcred, "serve", "--port", str(port), "--workers", "1", "--threads", "4"],
                                env=env, stdout=open(tmp_path / f"serve-{port}.log", "wb"),  # noqa: SIM115
                                stderr=subprocess.STDOUT)
               for port in ports]
    try:
        for port, server in zip(ports, servers, strict=True):
            wait_for(port, server)
        yield {"urls": [f"http://127.0.0.1:{port}" for port in ports], "tokens": tokens, "database": url,
               "engine": create_engine(url), "tmp": tmp_path, "env": {"MICROCRED_BASE_URL": env["MICROCRED_BASE_URL"]}}
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()


def api(base: str, token: str, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{base}/api/v1{path}", headers={"Authorization": f"Bearer {token}"},
                            timeout=30, **kwargs)


def job_row(engine, job_id: str) -> BulkJob:
    with Session(engine) as session:
        job = session.get(BulkJob, job_id)
        session.expunge(job)
        return job


def test_two_app_servers_and_a_worker_on_one_postgresql(deployment):
    (a, b), (token, limit_token) = deployment["urls"], deployment["tokens"]
    engine, tmp, database = deployment["engine"], deployment["tmp"], deployment["database"]
    worker = start_worker(tmp, database, env=deployment["env"])
    try:
        # issue through A, read it on B (API and public credential URL), emailed by the worker
        issued = api(a, token, "POST", "/awards", json={"achievement": "team-leadership",
                                                         "email": "one@example.com", "name": "One Person"})
        assert issued.status_code == 201, issued.text
        award = issued.json()
        on_b = api(b, token, "GET", f"/awards/{award['id']}")
        assert on_b.status_code == 200 and on_b.json()["credential_url"] == award["credential_url"]
        credential = on_b.json()["credential"]
        assert credential["id"] == award["credential_url"]
        public = requests.get(award["credential_url"].replace(a, b), headers={"Accept": "application/json"},
                              timeout=30)
        assert public.status_code == 200 and public.json() == credential

        def emailed() -> bool:
            with Session(engine) as session:
                return session.scalar(select(OutboxMessage.sent_at).where(
                    OutboxMessage.award_id == award["id"])) is not None
        wait_until(emailed, DEADLINE, "the worker to send the award email")

        # a bulk job sent to B, followed on A; its worker killed mid-job, a new worker finishes it
        rows = ["email,name,achievement,external_id"] + [
            f"d-row{i}@example.com,Person {i},coaching-feedback,d-{i}" for i in range(ROWS)]
        sent = requests.post(f"{b}/api/v1/awards/bulk?async=true", data="\r\n".join(rows).encode(), timeout=60,
                             headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
        assert sent.status_code == 202, sent.text
        job_id = sent.json()["id"]
        wait_until(lambda: 0 < job_row(engine, job_id).done < ROWS - 500, DEADLINE, "the job's first chunks")
        seen_on_a = api(a, token, "GET", f"/bulk-jobs/{job_id}").json()
        assert seen_on_a["state"] == "running" and 0 < seen_on_a["done"] < ROWS
        kill_hard(worker)
        assert job_row(engine, job_id).state == "running"
        worker = start_worker(tmp, database, env=deployment["env"])
        wait_until(lambda: job_row(engine, job_id).state == "done", DEADLINE, "the new worker to finish the job")
        finished = api(a, token, "GET", f"/bulk-jobs/{job_id}").json()
        assert finished["state"] == "done" and finished["done"] == ROWS
        results = api(b, token, "GET", f"/bulk-jobs/{job_id}/results")
        lines = list(csv.DictReader(io.StringIO(results.text)))
        assert len(lines) == ROWS and {line["status"] for line in lines} <= {"issued", "already issued"}
        with Session(engine) as session:
            per_person = collections.Counter(session.scalars(
                select(Recipient.email).join(Award, Award.recipient_id == Recipient.id)
                .where(Recipient.email.like("d-row%"))))
        assert len(per_person) == ROWS and set(per_person.values()) == {1}
    finally:
        stop(worker)

    # one API limit across both servers (Redis): LIMIT requests in all, then 429 on either
    statuses = [api(base, limit_token, "GET", "/achievements").status_code for base in [a, b] * (LIMIT // 2 + 1)]
    assert statuses[:LIMIT] == [200] * LIMIT and statuses[LIMIT:] == [429, 429]


def test_the_worker_command_refuses_the_embedded_default(tmp_path):
    env = {**os.environ, "MICROCRED_INSTANCE": str(tmp_path / "i"), "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    env.pop("MICROCRED_QUEUE", None)
    done = subprocess.run([sys.executable, "-c", "from issuer.cli import main; main()", "worker"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "MICROCRED_QUEUE=postgres" in done.stderr
    assert Path(tmp_path / "m.db").exists() is False
