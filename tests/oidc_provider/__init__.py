"""A real OpenID Provider on loopback for the sign-in tests: panva's certified ``oidc-provider`` on node.

    with OidcProvider(redirect_uris=[app_url + "/oidc/callback"], accounts=ACCOUNTS) as provider:
        provider.issuer                                       # http://127.0.0.1:PORT
        callback = provider.sign_in(browser, authorization_url, "hana")   # drives the login and consent forms

The provider runs ``tests/interop/js/oidc_provider.mjs`` (the npm packages come from
``npm ci --prefix tests/interop``, which ``scripts/test.sh`` runs). It makes a fresh RSA signing
key when it starts, keeps everything in memory, and stops when its standard input closes (at
:meth:`OidcProvider.stop`, or when the test process ends). Its login and consent pages are
oidc-provider's development interactions; :meth:`OidcProvider.sign_in` submits them with
``requests`` as a browser would (any password; the login names the account) and returns the
URL the provider sends the browser back to, without following it.

:func:`require_provider` skips a test when node or the package is missing, and fails it under
``CI=true`` (CI installs both), as the browser and PostgreSQL fixtures do.
"""
from __future__ import annotations

import html
import json
import os
import re
import secrets
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask

from tests.admin_support import console_app, live_console

INTEROP = Path(__file__).resolve().parents[1] / "interop"
SCRIPT = INTEROP / "js" / "oidc_provider.mjs"
PACKAGE = INTEROP / "node_modules" / "oidc-provider" / "package.json"
NODE = shutil.which("node")
START_TIMEOUT = 60          # seconds for node to load the package and listen
FORM = re.compile(r'<form\b[^>]*\baction="([^"]+)"[^>]*>(.*?)</form>', re.S)
INPUT = re.compile(r'<input\b([^>]*)>')
ATTRIBUTE = re.compile(r'\b(name|value)="([^"]*)"')
MAX_STEPS = 12              # redirects and forms between the authorization request and the callback


def require_provider() -> None:
    """Skip (locally) or fail (CI=true) when the provider cannot run here."""
    reason = None
    if NODE is None:
        reason = "node is not installed: the OpenID Connect sign-in tests run oidc-provider on node >= 20"
    elif not PACKAGE.is_file():
        reason = f"{PACKAGE.parent} is missing: run `npm ci --prefix tests/interop` first"
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: scripts/test.sh installs it)", pytrace=False)
    pytest.skip(reason)


class OidcProvider:
    """One provider process with one confidential client (``client_id``/``client_secret``)."""

    def __init__(self, *, redirect_uris: list[str], accounts: dict[str, dict], client_id: str = "microcred-test",
                 client_secret: str | None = None) -> None:
        require_provider()
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.redirect_uris = redirect_uris
        config = {"port": 0, "accounts": accounts,
                  "clients": [{"client_id": client_id, "client_secret": self.client_secret,
                               "redirect_uris": redirect_uris}]}
        self._process = subprocess.Popen([NODE or "node", str(SCRIPT)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                         cwd=INTEROP)
        self._errors: list[str] = []
        threading.Thread(target=self._drain_errors, daemon=True).start()
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(config) + "\n")
        self._process.stdin.flush()
        ready = _read_line(self._process.stdout, START_TIMEOUT)
        if not ready:
            self.stop()
            raise RuntimeError(f"oidc-provider did not start: {''.join(self._errors)[-2000:]}")
        self.issuer: str = json.loads(ready)["issuer"]

    def _drain_errors(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._errors.append(line)

    @property
    def errors(self) -> str:
        """What the provider wrote to its standard error (warnings, server errors)."""
        return "".join(self._errors)

    def stop(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)

    def __enter__(self) -> OidcProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sign_in(self, browser: requests.Session, authorization_url: str, login: str, *,
                cancel: bool = False) -> str:
        """Open ``authorization_url`` at the provider, sign in as ``login`` and consent (or, with
        ``cancel``, abort at the login page); the URL the provider then redirects to (the callback)."""
        response = browser.get(authorization_url, allow_redirects=False, timeout=30)
        for _ in range(MAX_STEPS):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if any(location.startswith(uri) for uri in self.redirect_uris):
                    return location
                response = browser.get(location, allow_redirects=False, timeout=30)
                continue
            assert response.status_code == 200, f"provider answered {response.status_code}: {response.text[:500]}"
            page = response.text
            if cancel:
                abort = re.search(r'<a\b[^>]*href="([^"]*/abort)"', page)
                assert abort, "no abort link on the provider's page"
                response = browser.get(urljoin(response.url, html.unescape(abort.group(1))), allow_redirects=False,
                                       timeout=30)
                continue
            form = FORM.search(page)
            assert form, f"no form on the provider's page: {page[:500]}"
            fields = {}
            for attributes in INPUT.findall(form.group(2)):
                found = dict(ATTRIBUTE.findall(attributes))
                fields[html.unescape(found["name"])] = html.unescape(found.get("value", ""))
            if fields.get("prompt") == "login":
                fields.update(login=login, password="any password")
            response = browser.post(urljoin(response.url, html.unescape(form.group(1))), data=fields,
                                    allow_redirects=False, timeout=30)
        raise AssertionError("the provider never redirected back to the application")


@contextmanager
def console_with_provider(tmp: Path, accounts: dict[str, dict], prepare: Callable[[Flask], None],
                          *, name: str = "Example SSO") -> Iterator[tuple[Flask, str, OidcProvider]]:
    """The issuer app served on loopback, configured (through the environment, as ``microcred serve``
    reads it) for a provider started with ``accounts`` and the app's callback as its redirect URI;
    ``prepare(app)`` adds staff accounts. Yields (app, base URL, provider)."""
    require_provider()
    holder: dict[str, OidcProvider] = {}
    with ExitStack() as stack:
        def factory(base_url: str) -> Flask:
            provider = stack.enter_context(OidcProvider(redirect_uris=[base_url + "/oidc/callback"],
                                                        accounts=accounts))
            with pytest.MonkeyPatch.context() as env:       # read once, by create_app
                env.setenv("MICROCRED_OIDC_ISSUER", provider.issuer)
                env.setenv("MICROCRED_OIDC_CLIENT_ID", provider.client_id)
                env.setenv("MICROCRED_OIDC_CLIENT_SECRET", provider.client_secret)
                env.setenv("MICROCRED_OIDC_NAME", name)
                env.setenv("MICROCRED_OIDC_ALLOW_LOOPBACK_HTTP", "1")
                app = console_app(tmp, f"sqlite:///{tmp / 'microcred.db'}", base_url)
            prepare(app)
            holder["provider"] = provider
            return app

        app, base = stack.enter_context(live_console(factory))
        yield app, base, holder["provider"]


def _read_line(stream, timeout: float) -> str:
    """One line from ``stream``, or "" after ``timeout`` seconds."""
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else ""
