"""The first ten minutes on the command line: settings found in the instance folder, award links accepted,
plain answers when there is nothing to show, and no 'microcred init' for an issuer that exists elsewhere."""
from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner

from issuer.cli import main
from issuer.cli.references import award_id_from
from issuer.cli.serve import default_port, port_mismatch
from issuer.config import load_settings
from issuer.db.models import Award
from issuer.errors import InvalidInput
from issuer.instance import open_instance

ACHIEVEMENT = ["achievements", "create", "--slug", "sql", "--name", "SQL", "--description", "Writes SQL.",
               "--criteria", "Passed a practical.", "--validity-months", "12"]


@pytest.fixture()
def folder(tmp_path, monkeypatch):
    """A working folder with nothing exported: the defaults (instance/, keys/) are relative to it."""
    for name in ("MICROCRED_INSTANCE", "MICROCRED_KEYS", "MICROCRED_BASE_URL", "DATABASE_URL", "MICROCRED_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args, ok=True, env=None):
    result = CliRunner().invoke(main, list(args), env=env)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def issue(email="alex@example.com") -> tuple[str, str]:
    lines = run("issue", "--achievement", "sql", "--email", email).stdout.splitlines()
    return lines[0].split()[1], lines[1]


def state_of(award_id: str) -> str:
    with open_instance(load_settings())() as session:
        award = session.get(Award, award_id)
        return award.state


def test_init_keeps_its_settings_and_every_later_command_uses_them(folder):
    base = {"MICROCRED_BASE_URL": "http://localhost:8081"}
    out = run("init", "--name", "Example Corp", env=base).stdout
    saved = folder / "instance" / "settings.json"
    assert "Settings kept in instance/settings.json" in out or str(saved) in out
    data = json.loads(saved.read_text())
    assert data == {"base_url": "http://localhost:8081", "keys_dir": str((folder / "keys").resolve())}
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    run("achievements", *ACHIEVEMENT[1:])               # nothing exported from here on
    award_id, url = issue()
    assert url == f"http://localhost:8081/credentials/{award_id}"
    assert load_settings().base_url == "http://localhost:8081"


def test_the_environment_overrides_the_saved_settings_and_a_broken_file_is_named(folder):
    run("init", "--name", "Example Corp", env={"MICROCRED_BASE_URL": "http://localhost:8081"})
    assert load_settings({"MICROCRED_BASE_URL": "https://hr.example.com"}).base_url == "https://hr.example.com"
    assert load_settings({}, base_url="https://other.example").base_url == "https://other.example"
    (folder / "instance" / "settings.json").write_text('{"base_url": 5}')
    result = run("expiring", ok=False)
    assert result.exit_code == 78 and result.stderr.startswith("error: ") and "settings.json" in result.stderr
    (folder / "instance" / "settings.json").write_text("{not json")
    assert "not valid JSON" in run("expiring", ok=False).stderr


def test_no_init_is_suggested_when_the_issuer_lives_at_another_base_url(folder):
    run("init", "--name", "Example Corp", env={"MICROCRED_BASE_URL": "http://localhost:8081"})
    result = run("expiring", ok=False, env={"MICROCRED_BASE_URL": "http://localhost:9999"})
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "http://localhost:8081" in result.stderr and "MICROCRED_BASE_URL=http://localhost:8081" in result.stderr
    assert "microcred init" not in result.stderr
    fresh = run("expiring", ok=False, env={"MICROCRED_INSTANCE": str(folder / "fresh")}).stderr
    assert "run 'microcred init'" in fresh                             # a fresh installation: init it is


@pytest.mark.parametrize("form", ["{url}", "{url}/", "{url}.json", "{url}.json/", "{url}.jwt", "{url}/badge.png",
                                  "{url}/credential.json", "{id}", " {url} "])
def test_revoke_accepts_the_printed_link_in_its_usual_forms(folder, form):
    run("init", "--name", "Example Corp", env={"MICROCRED_BASE_URL": "https://hr.example.com"})
    run(*ACHIEVEMENT)
    award_id, url = issue()
    out = run("revoke", form.format(url=url, id=award_id), "--reason", "issued in error").stdout
    assert out.strip() == f"{award_id}: revoked" and state_of(award_id) == "revoked"


def test_suspend_unsuspend_and_renew_take_links_too(folder):
    run("init", "--name", "Example Corp", env={"MICROCRED_BASE_URL": "https://hr.example.com"})
    run(*ACHIEVEMENT)
    award_id, url = issue()
    assert run("suspend", url, "--reason", "under review").stdout.strip() == f"{award_id}: suspended"
    assert state_of(award_id) == "suspended"
    assert run("unsuspend", url + "/", "--reason", "cleared").stdout.strip() == f"{award_id}: active"
    renewed = run("renew", url + ".json").stdout.splitlines()
    new_id = renewed[0].removeprefix("Renewed as ")
    assert new_id != award_id and renewed[1] == f"https://hr.example.com/credentials/{new_id}"


@pytest.mark.parametrize("ref,message", [
    ("https://evil.example/credentials/{id}", "is a link to evil.example, but this installation is"),
    ("https://hr.example.com:8443/credentials/{id}", "is a link to hr.example.com:8443"),
    ("https://hr.example.com/achievements/{id}", "is not a credential link"),
    ("https://hr.example.com/credentials/{id}/extra/more", "is not a credential link"),
    ("https://hr.example.com/credentials/", "is not a credential link"),
    ("ftp://hr.example.com/credentials/{id}", "is not a credential link"),
    ("credentials/{id}", "neither an award id nor a credential link"),
])
def test_links_elsewhere_are_refused_and_nothing_changes(folder, ref, message):
    run("init", "--name", "Example Corp", env={"MICROCRED_BASE_URL": "https://hr.example.com"})
    run(*ACHIEVEMENT)
    award_id, _url = issue()
    result = run("revoke", ref.format(id=award_id), "--reason", "x", ok=False)
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""
    assert state_of(award_id) == "active"


def test_links_under_a_base_path_and_either_scheme_of_the_same_host():
    settings = load_settings({}, instance="/nonexistent", base_url="http://localhost:5000/badges")
    assert award_id_from("http://localhost:5000/badges/credentials/abc", settings) == "abc"
    assert award_id_from("https://localhost:5000/badges/credentials/abc/", settings) == "abc"
    with pytest.raises(InvalidInput, match="not a credential link"):
        award_id_from("http://localhost:5000/credentials/abc", settings)


def test_expiring_says_when_nothing_expires(folder):
    run("init", "--name", "Example Corp")
    assert run("expiring").stdout == "No active award expires within 30 days.\n"
    assert run("expiring", "--days", "1").stdout == "No active award expires within 1 day.\n"
    run(*ACHIEVEMENT)
    award_id, _url = issue()
    listed = run("expiring", "--days", "400").stdout
    assert award_id in listed and "No active award" not in listed


def test_serve_listens_on_a_local_base_urls_port_and_warns_when_told_otherwise():
    local = load_settings({}, instance="/nonexistent", base_url="http://localhost:8080")
    public = load_settings({}, instance="/nonexistent", base_url="https://hr.example.com")
    assert default_port(local) == 8080 and default_port(public) == 5000
    assert port_mismatch(local, 8080) is None and port_mismatch(public, 8000) is None    # a proxy may forward
    assert "MICROCRED_BASE_URL=http://localhost:5000 microcred serve --port 5000" in port_mismatch(local, 5000)


def test_the_demo_says_what_it_did_and_what_to_do_next(folder):
    out = run("demo", env={"MICROCRED_BASE_URL": "http://localhost:8082"}).stdout
    assert "award emails: 10 written to instance/outbox-mail/" in out
    assert len(list((folder / "instance" / "outbox-mail").glob("*.eml"))) == 10
    assert "Serve them with 'microcred serve' (then open http://localhost:8082/)" in out
    assert "microcred verify URL --allow-http-host localhost" in out and "HOST'" not in out
    assert json.loads((folder / "instance" / "settings.json").read_text())["base_url"] == "http://localhost:8082"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _microcred(*args: str, cwd, env: dict, **kwargs):
    return subprocess.run([sys.executable, "-c", "from issuer.cli import main; main()", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, **kwargs)


def test_demo_serve_on_another_port_and_revoke_its_link_from_another_terminal(tmp_path):
    """What README's first steps promise: MICROCRED_PORT=… demo.sh, then plain commands elsewhere."""
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_") and k != "DATABASE_URL"}
    server = subprocess.Popen([sys.executable, "-c", "from issuer.cli import main; main()", "demo", "--serve",
                               "--port", str(port)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env={**clean, "MICROCRED_BASE_URL": f"http://localhost:{port}"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "the demo did not start serving"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:       # noqa: S310
            assert "Example Corp People Team" in response.read().decode()
        urls = _microcred("expiring", "--days", "3650", cwd=tmp_path, env=clean)
        assert urls.returncode == 0, urls.stderr
        award_id = urls.stdout.split("\t")[1]
        link = f"http://localhost:{port}/credentials/{award_id}/"
        revoked = _microcred("revoke", link, "--reason", "demo", cwd=tmp_path, env=clean)
        assert revoked.returncode == 0, revoked.stderr
        assert revoked.stdout.strip() == f"{award_id}: revoked"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert f"Serving them now: open http://localhost:{port}/ (Ctrl-C stops)" in output
    assert re.search(rf"listening on 127\.0\.0\.1:{port} ", output)
    assert "warning:" not in output
