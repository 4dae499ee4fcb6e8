"""``microcred verify`` says the real reason in its first line (issue 14 §2), run as a real command.

Each test starts the command in its own process (as the installed ``microcred verify`` runs,
without the issuer package) against real loopback servers (plain HTTP and HTTPS with a test CA,
tests/http_fixtures.py) publishing a did:web issuer (tests/verifier/issuer_world.py). The first
line names the issuer by its name and the website the signature proved (never a raw DID), or the
specific reason it did not verify and, where a flag of the command allows what was refused, how.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.verifier.issuer_world import IssuerWorld
from tests.verifier.test_plain_words import jargon

VERIFY = [sys.executable, "-c", "from verifier.cli import verify; verify(prog_name='microcred verify')"]
NOW = "2026-06-01T00:00:00Z"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*VERIFY, *args, "--at", NOW], capture_output=True, text=True, timeout=90)


def first_line(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout.splitlines()[0]


@pytest.fixture()
def world(https_server):
    world = IssuerWorld(https_server)
    yield world
    world.close()


def test_a_link_over_plain_http_is_refused_with_the_flag_that_allows_it(http_server, world):
    http_server.set_json("/credentials/1", world.issue(), content_type="application/vc+ld+json")
    done = run(http_server.url("/credentials/1"))
    assert first_line(done) == (
        "Could not be fully checked: The badge could not be fetched from its address: the address uses plain "
        "http, which is refused; use --allow-http-host 127.0.0.1 to allow it for testing.")
    assert done.returncode == 3
    assert http_server.hits("/credentials/1") == 0                               # refused before any request
    allowed = run(http_server.url("/credentials/1"), "--allow-http-host", "127.0.0.1",
                  "--ca-file", world.server.ca_file)
    assert allowed.returncode == 0, allowed.stdout
    assert first_line(allowed) == f"Verified: issued by Example Corp People Team — proven: {world.server.netloc}."


def test_an_issuer_on_a_local_port_says_which_port_and_how_to_allow_it(world, tmp_path):
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(world.issue()))
    done = run(str(path), "--ca-file", world.server.ca_file)
    assert done.returncode == 3
    assert first_line(done) == (
        "Could not be fully checked: The issuer's public key could not be fetched right now: the address uses port "
        f"{world.server.port}, and only the standard https port (443) is used; use --allow-http-host 127.0.0.1 to "
        "allow it for testing.")
    assert "The DID document of" in json.loads(run(str(path), "--json").stdout)["checks"][3]["details"]["error"]


def test_an_untrusted_certificate_says_so_and_names_ca_file(world):
    world.server.set_json("/credentials/1", world.issue(), content_type="application/vc+ld+json")
    done = run(world.server.url("/credentials/1"), "--allow-http-host", "127.0.0.1")   # the test CA: not trusted
    assert done.returncode == 3
    assert first_line(done) == (
        "Could not be fully checked: The badge could not be fetched from its address: the secure connection to "
        f"{world.server.netloc} failed (its certificate is not trusted); use --ca-file PEM if the website uses your "
        "organisation's own certificate authority.")


def test_a_verified_badge_names_the_issuer_and_keeps_the_did_for_the_last_line(world, tmp_path):
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(world.issue()))
    done = run(str(path), "--allow-http-host", "127.0.0.1", "--ca-file", world.server.ca_file,
               "--recipient-email", "alex.rivera@example.com")
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    assert lines[0] == f"Verified: issued by Example Corp People Team — proven: {world.server.netloc}."
    assert "Badge:       Teamwork" in lines and "Valid from:  15 January 2026, 09:00 UTC" in lines
    assert "✓ Recipient: Issued to the person you named." in lines
    body = "\n".join(lines[:-1])
    assert "did:" not in body and "%3A" not in body and jargon(body) == [], jargon(body)
    assert lines[-1] == (f"Technical details: issuer id {world.did} (proven by the signature); --json shows the "
                         "full report.")


def test_a_revoked_badge_and_a_changed_one_say_so_first(world, tmp_path):
    url = world.publish_status_list("/status/1", revoked=[3])
    revoked = tmp_path / "revoked.json"
    revoked.write_text(json.dumps(world.sign(world.with_status(world.unsigned(), url, 3))))
    done = run(str(revoked), "--allow-http-host", "127.0.0.1", "--ca-file", world.server.ca_file)
    assert done.returncode == 1 and first_line(done) == "Not verified: The issuer has revoked this badge."
    changed = world.issue()
    changed["credentialSubject"]["achievement"]["name"] = "Leadership"
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(changed))
    done = run(str(path), "--allow-http-host", "127.0.0.1", "--ca-file", world.server.ca_file)
    assert done.returncode == 1
    assert first_line(done) == ("Not verified: The signature does not match: the badge was changed after it was "
                                "signed, or it was signed with a different key.")


def test_a_web_page_and_random_text_are_not_badges(world, tmp_path):
    world.server.set("/about", b"<!doctype html><title>About</title>", content_type="text/html")
    done = run(world.server.url("/about"), "--allow-http-host", "127.0.0.1", "--ca-file", world.server.ca_file)
    assert done.returncode == 2
    assert first_line(done) == ("Not verified: This is not a badge: it is not a badge file, a badge image or the "
                                "text of a signed badge.")
    text = tmp_path / "notes.txt"
    text.write_text("Alex is great at teamwork.")
    assert first_line(run(str(text))) == first_line(done)
