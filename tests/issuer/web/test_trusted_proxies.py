"""Behind a load balancer (issue 15 §4): MICROCRED_TRUSTED_PROXIES=N takes the client's address from
the N proxies' X-Forwarded-For, so per-address limits count each visitor, not the proxy; unset, a
forged X-Forwarded-For changes nothing."""
from __future__ import annotations

import pytest

from issuer.config import load_settings
from issuer.errors import ConfigError
from issuer.web.app import create_app
from tests.admin_support import BASE, Console

WRONG = {"username": "nobody", "password": "guess guess guess"}


def app_with(tmp_path, proxies: str):
    settings = load_settings({"MICROCRED_TRUSTED_PROXIES": proxies}, instance=tmp_path / "instance",
                             keys_dir=tmp_path / "keys", database_url=f"sqlite:///{tmp_path / 'm.db'}", base_url=BASE)
    app = create_app(settings)
    app.extensions["microcred"].use.setup.init(name="Example Corp")
    app.config["ADMIN_LOGIN_RATE_LIMIT"] = "2/minute"
    return app


def attempts(app, forwarded_for: str, count: int) -> list[int]:
    console = Console(app)
    token = console.csrf_token()
    return [console.client.post("/admin/login", data={**WRONG, "csrf_token": token},
                                headers={"X-Forwarded-For": forwarded_for}).status_code for _ in range(count)]


def test_behind_one_proxy_each_visitor_has_their_own_limit(tmp_path):
    app = app_with(tmp_path, "1")
    assert attempts(app, "203.0.113.7", 3) == [401, 401, 429]
    assert attempts(app, "198.51.100.2", 2) == [401, 401]      # another visitor through the same proxy


def test_without_trusted_proxies_a_forged_header_is_ignored(tmp_path):
    app = app_with(tmp_path, "0")
    assert attempts(app, "203.0.113.7", 3) == [401, 401, 429]
    assert attempts(app, "198.51.100.2", 1) == [429]           # the same connection address: the same limit


def test_a_bad_setting_is_refused_plainly(tmp_path):
    with pytest.raises(ConfigError, match="MICROCRED_TRUSTED_PROXIES"):
        load_settings({"MICROCRED_TRUSTED_PROXIES": "all"}, instance=tmp_path)
