"""The console's door: sign-in, sessions, roles, CSRF, the keys and users pages, production refusals.

Flask test client against a real database (SQLite and PostgreSQL for what is stored);
``microcred users`` through the real click group.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from issuer.access.staff import (
    LOCK_MINUTES,
    MAX_FAILED_LOGINS,
    SIGN_IN_FAILED,
    SignInGuard,
    StaffError,
    authenticate,
    create_user,
    set_password,
)
from issuer.cli import main
from issuer.config import ConfigError, load_settings
from issuer.db.models import AuditEntry, IssuerKey
from issuer.db.models_staff import StaffUser
from issuer.instance import open_instance
from issuer.web.app import check_production
from tests.admin_support import PASSWORD, Clock, Console, add_staff, console_app, page_text

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def app(db_url, tmp_path, clock):
    app = console_app(tmp_path, db_url, clock=clock)
    add_staff(app, "ada", "admin", name="Ada Admin")
    add_staff(app, "ike", "issuer", name="Ike Issuer")
    yield app
    app.extensions["microcred"].engine.dispose()


def keys_count(app) -> int:
    with app.extensions["microcred"].sessions() as session:
        return session.scalar(select(func.count()).select_from(IssuerKey))


def staff(app, username: str) -> StaffUser:
    with app.extensions["microcred"].sessions() as session:
        return session.scalars(select(StaffUser).where(StaffUser.username == username)).one()


# ------------------------------------------------------------------ signing in

def test_every_console_page_needs_a_signed_in_account(app):
    client = app.test_client()
    for path in ("/admin/", "/admin/keys", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/login?next=")
    assert client.post("/admin/keys/rotate", data={"confirm": "yes"}).status_code in (400, 401)
    assert keys_count(app) == 1


def test_sign_in_with_the_right_password_and_out_again(app):
    hr = Console(app).login("ADA ")           # user names are trimmed and lower-cased
    assert "Ada Admin (admin)" in page_text(hr.get("/admin/keys"))
    response = hr.post("/admin/logout", token_from="/admin/keys")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/login")
    assert hr.get("/admin/keys").status_code == 302
    assert staff(app, "ada").last_login_at is not None


def test_a_wrong_password_or_unknown_name_gives_the_same_answer(app):
    console = Console(app)
    for username in ("ada", "nobody"):
        response = console.client.post("/admin/login", data={"username": username, "password": "wrong password!",
                                                              "csrf_token": console.csrf_token()})
        assert response.status_code == 401
        assert "The user name or password is wrong" in page_text(response)
    assert console.get("/admin/keys").status_code == 302


def _attempt(console: Console, username: str, password: str, address: str = "127.0.0.1"):
    return console.client.post("/admin/login", data={"username": username, "password": password,
                                                     "csrf_token": console.csrf_token()},
                               environ_base={"REMOTE_ADDR": address})


def test_repeated_wrong_passwords_lock_the_account_for_a_while_from_that_address(app, clock):
    clock.now = datetime.now(UTC)
    console = Console(app)
    for _ in range(MAX_FAILED_LOGINS):
        assert _attempt(console, "ike", "not the password").status_code == 401
    response = _attempt(console, "ike", PASSWORD)
    assert response.status_code == 401 and SIGN_IN_FAILED in page_text(response)
    assert staff(app, "ike").locked_until is None          # nothing is written for the account itself
    clock.now += timedelta(minutes=LOCK_MINUTES, seconds=1)
    assert _attempt(console, "ike", PASSWORD).status_code == 303


def test_failures_from_one_address_do_not_lock_the_owner_out_from_another(app):
    attacker, owner = Console(app), Console(app)
    for _ in range(MAX_FAILED_LOGINS * 2):
        assert _attempt(attacker, "ike", "guess guess guess", "203.0.113.9").status_code == 401
    assert _attempt(attacker, "ike", PASSWORD, "203.0.113.9").status_code == 401     # locked for the attacker
    assert _attempt(owner, "ike", PASSWORD, "198.51.100.4").status_code == 303      # the owner gets in


def _comparable(response, username: str) -> tuple:
    # X-Request-Id: each response's own random id (issuer.web.observability), the same for every answer
    headers = sorted((k, v) for k, v in response.headers.items()
                     if k.lower() not in ("set-cookie", "vary", "x-request-id"))
    body = response.get_data(as_text=True).replace(f'value="{username}"', 'value="NAME"')
    body = re.sub(r'name="csrf_token" value="[^"]+"', "CSRF", body)     # signed with a timestamp
    return response.status_code, headers, body


def test_unknown_locked_and_wrong_password_answers_are_identical(app):
    console = Console(app)
    for _ in range(MAX_FAILED_LOGINS):
        _attempt(console, "ada", "not the password", "192.0.2.1")
    answers = {
        "unknown": _comparable(_attempt(console, "zed", "not the password"), "zed"),   # names of one length
        "wrong": _comparable(_attempt(console, "ike", "not the password"), "ike"),
        "locked, right password": _comparable(_attempt(console, "ada", PASSWORD, "192.0.2.1"), "ada"),
        "locked, wrong password": _comparable(_attempt(console, "ada", "not the password", "192.0.2.1"), "ada"),
    }
    first = answers["unknown"]
    assert first[0] == 401 and SIGN_IN_FAILED.split(":")[0] in first[2]
    for name, answer in answers.items():
        assert answer == first, name


def test_locked_unknown_and_wrong_cost_the_same_password_hash(app, monkeypatch):
    import issuer.access.staff as staff_module
    calls = []
    real = staff_module.check_password_hash
    monkeypatch.setattr(staff_module, "check_password_hash", lambda *a: calls.append(1) or real(*a))
    guard = SignInGuard(max_failures=1)
    with app.extensions["microcred"].sessions.begin() as session:
        for username in ("nobody", "ike", "ike"):        # unknown, wrong (locks), locked
            calls.clear()
            with pytest.raises(StaffError) as refused:
                authenticate(session, username, "not the password", client="a", guard=guard)
            assert str(refused.value) == SIGN_IN_FAILED and len(calls) == 1
        assert guard.locked_until("ike", "a", datetime.now(UTC)) is not None


def test_the_session_cookie_is_httponly_samesite_and_secure_on_https(app):
    console = Console(app)
    response = console.client.post("/admin/login", data={"username": "ada", "password": PASSWORD,
                                                         "csrf_token": console.csrf_token()})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-microcred=")       # https base URL: the __Host- prefix
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie


def test_sign_in_starts_a_fresh_session(app):
    console = Console(app)
    with console.client.session_transaction() as session:
        session["planted"] = "by an attacker"
    console.login("ada")
    with console.client.session_transaction() as session:
        assert "planted" not in session


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/admin", "/verify", "/admin\\@evil"])
def test_after_sign_in_only_console_paths_are_followed(app, target):
    console = Console(app)
    response = console.client.post("/admin/login", data={"username": "ada", "password": PASSWORD, "next": target,
                                                         "csrf_token": console.csrf_token()})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"


def test_the_requested_page_is_opened_after_sign_in(app):
    console = Console(app)
    response = console.client.post("/admin/login", data={"username": "ada", "password": PASSWORD,
                                                         "next": "/admin/users",
                                                         "csrf_token": console.csrf_token()})
    assert response.headers["Location"] == "/admin/users"


def test_disabling_an_account_or_changing_its_password_ends_its_sessions(app):
    ike = Console(app).login("ike")
    assert ike.get("/admin/").status_code == 302 and "/login" not in ike.get("/admin/").headers["Location"]
    admin = Console(app).login("ada")
    response = admin.post(f"/admin/users/{staff(app, 'ike').id}/disable", token_from="/admin/users")
    assert response.status_code == 303
    assert ike.get("/admin/").headers["Location"].startswith("/admin/login")
    again = Console(app)
    response = again.client.post("/admin/login", data={"username": "ike", "password": PASSWORD,
                                                       "csrf_token": again.csrf_token()})
    assert response.status_code == 401 and "disabled" in page_text(response)

    ada2 = Console(app).login("ada")
    with app.extensions["microcred"].sessions.begin() as session:
        set_password(session, session.get(StaffUser, staff(app, "ada").id), "a brand new passphrase")
    assert ada2.get("/admin/keys").status_code == 302
    Console(app).login("ada", "a brand new passphrase")


def test_pages_are_not_cached_and_only_post_forms_to_this_site(app):
    response = Console(app).login("ada").get("/admin/keys")
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "form-action 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    # same-origin, not no-referrer: browsers send "Origin: null" on posts from no-referrer pages
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert app.test_client().get("/issuer").headers["Referrer-Policy"] == "no-referrer"


# ------------------------------------------------------------------ CSRF and cross-site requests

def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(app):
    admin = Console(app).login("ada")
    response = admin.client.post("/admin/keys/rotate", data={"confirm": "yes"}, headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert "reload the page" in page_text(response)
    response = admin.client.post("/admin/keys/rotate", data={"confirm": "yes", "csrf_token": "forged"})
    assert response.status_code == 400
    assert keys_count(app) == 1


def test_a_token_from_another_session_does_not_work(app):
    other = Console(app).login("ike").csrf_token("/admin/")
    admin = Console(app).login("ada")
    assert admin.client.post("/admin/keys/rotate", data={"confirm": "yes", "csrf_token": other}).status_code == 400
    assert keys_count(app) == 1


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
])
def test_a_cross_site_post_is_refused_even_with_a_valid_token(app, headers):
    admin = Console(app).login("ada")
    response = admin.post("/admin/keys/rotate", {"confirm": "yes"}, headers=headers)
    assert response.status_code == 403
    assert keys_count(app) == 1


def test_a_same_origin_post_from_the_browser_is_accepted(app):
    admin = Console(app).login("ada")
    response = admin.post("/admin/keys/rotate", {"confirm": "yes"},
                          headers={"Origin": "https://hr.example.com", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    assert keys_count(app) == 2


def test_a_login_form_post_needs_its_csrf_token_too(app):
    response = app.test_client().post("/admin/login", data={"username": "ada", "password": PASSWORD})
    assert response.status_code == 400


# ------------------------------------------------------------------ roles

def test_an_issuer_cannot_see_or_use_keys_and_users(app):
    ike = Console(app).login("ike")
    nav = page_text(ike.get("/admin/", follow_redirects=True))
    assert "Keys" not in nav and "Users" not in nav
    for path in ("/admin/keys", "/admin/users"):
        assert ike.get(path).status_code == 403
    assert ike.post("/admin/keys/rotate", {"confirm": "yes"}).status_code == 403
    assert ike.post("/admin/users", {"username": "eve", "role": "admin", "password": PASSWORD}).status_code == 403
    assert ike.post(f"/admin/users/{staff(app, 'ada').id}/disable").status_code == 403
    assert keys_count(app) == 1
    with app.extensions["microcred"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(StaffUser)) == 2


# ------------------------------------------------------------------ keys page

def test_an_admin_rotates_the_key_and_the_old_one_stays_published(app):
    admin = Console(app).login("ada")
    response = admin.post("/admin/keys/rotate", {}, token_from="/admin/keys")
    assert response.status_code == 303 and keys_count(app) == 1      # not confirmed: nothing changed
    response = admin.post("/admin/keys/rotate", {"confirm": "yes"}, token_from="/admin/keys",
                          follow_redirects=True)
    text = page_text(response)
    assert "did:web:hr.example.com#key-2 is current" in text
    assert "did:web:hr.example.com#key-1" in text and "retired" in text
    did = app.test_client().get("/.well-known/did.json").get_json()
    assert {m["id"] for m in did["verificationMethod"]} == {"did:web:hr.example.com#key-1",
                                                            "did:web:hr.example.com#key-2"}
    with app.extensions["microcred"].sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "rotate_key")).one()
        assert entry.actor == "staff:ada" and entry.details["key"].endswith("#key-2")


# ------------------------------------------------------------------ users page

def test_an_admin_creates_an_account_that_can_sign_in(app):
    admin = Console(app).login("ada")
    response = admin.post("/admin/users", {"username": "Bea", "name": "Bea <b>HR</b>", "role": "issuer",
                                           "password": "another long passphrase"}, token_from="/admin/users",
                          follow_redirects=True)
    assert "Account bea created." in page_text(response)
    assert "<b>HR</b>" not in response.get_data(as_text=True)       # escaped
    Console(app).login("bea", "another long passphrase")


@pytest.mark.parametrize("form, message", [
    ({"username": "x y", "role": "issuer", "password": PASSWORD}, "a user name is 2 to 100 characters"),
    ({"username": "bea", "role": "issuer", "password": "short"}, "at least 12 characters"),
    ({"username": "bea", "role": "root", "password": PASSWORD}, "the role must be one of"),
    ({"username": "ike", "role": "issuer", "password": PASSWORD}, "already exists"),
])
def test_bad_accounts_are_refused_with_a_reason(app, form, message):
    admin = Console(app).login("ada")
    response = admin.post("/admin/users", form, token_from="/admin/users")
    assert response.status_code == 422
    assert message.lower() in page_text(response).lower()
    with app.extensions["microcred"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(StaffUser)) == 2


def test_an_admin_cannot_disable_their_own_account(app):
    admin = Console(app).login("ada")
    assert admin.post(f"/admin/users/{staff(app, 'ada').id}/disable", token_from="/admin/users").status_code == 409
    assert staff(app, "ada").active


# ------------------------------------------------------------------ the staff service

@SQLITE_ONLY
def test_passwords_are_stored_only_as_salted_hashes(app):
    with app.extensions["microcred"].sessions.begin() as session:
        one = create_user(session, "one", PASSWORD, "issuer")
        two = create_user(session, "two", PASSWORD, "issuer")
        assert PASSWORD not in one.password_hash and one.password_hash.startswith("scrypt:")
        assert one.password_hash != two.password_hash


@SQLITE_ONLY
def test_a_disabled_account_with_the_right_password_is_told_so(app):
    with app.extensions["microcred"].sessions.begin() as session:
        session.scalars(select(StaffUser).where(StaffUser.username == "ike")).one().active = False
    with app.extensions["microcred"].sessions.begin() as session:
        with pytest.raises(StaffError, match="disabled"):
            authenticate(session, "ike", PASSWORD)
        with pytest.raises(StaffError, match="wrong"):
            authenticate(session, "ike", "not the password")


def test_lock_lasts_the_stated_minutes(app, clock):
    guard, now = SignInGuard(), datetime(2030, 1, 1, tzinfo=UTC)
    with app.extensions["microcred"].sessions.begin() as session:
        for _ in range(MAX_FAILED_LOGINS):
            with pytest.raises(StaffError):
                authenticate(session, "ike", "nope nope nope", now=now, client="10.1.1.1", guard=guard)
        assert guard.locked_until("ike", "10.1.1.1", now) == now + timedelta(minutes=LOCK_MINUTES)
        assert guard.locked_until("ike", "10.2.2.2", now) is None
        with pytest.raises(StaffError):
            authenticate(session, "ike", PASSWORD, now=now + timedelta(minutes=LOCK_MINUTES - 1), client="10.1.1.1",
                         guard=guard)
        later = now + timedelta(minutes=LOCK_MINUTES, seconds=1)
        assert authenticate(session, "ike", PASSWORD, now=later, client="10.1.1.1", guard=guard).username == "ike"


def test_the_guard_forgets_the_oldest_pairs_beyond_its_size():
    guard, now = SignInGuard(max_failures=1, max_entries=3), datetime(2030, 1, 1, tzinfo=UTC)
    for n in range(5):
        guard.failed(f"user{n}", "a", now)
    assert guard.locked_until("user0", "a", now) is None and guard.locked_until("user4", "a", now) is not None


# ------------------------------------------------------------------ production refusals

@pytest.mark.parametrize("env", [{"FLASK_DEBUG": "1"}, {"MICROCRED_DEBUG": "true"}])
def test_production_refuses_debug_mode(env):
    with pytest.raises(ConfigError, match="debug mode"):
        check_production("Zq3v9KpL0wX7mN2bT5yR8cF1hJ4dS6gA", env)


@pytest.mark.parametrize("secret", ["change-me-change-me-change-me-change-me",
                                    "example-secret-key-for-the-readme-000",
                                    "a" * 40, "abababababababababababababababababab"])
def test_production_refuses_a_placeholder_secret(secret):
    with pytest.raises(ConfigError, match="placeholder"):
        check_production(secret, {})


def test_production_accepts_a_generated_secret():
    import secrets

    for _ in range(200):
        check_production(secrets.token_urlsafe(48), {})


def test_microcred_serve_refuses_a_placeholder_secret(tmp_path, monkeypatch):
    env = {"MICROCRED_INSTANCE": str(tmp_path / "instance"), "MICROCRED_KEYS": str(tmp_path / "keys"),
           "MICROCRED_BASE_URL": "https://hr.example.com"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert CliRunner().invoke(main, ["init", "--name", "Example Corp"]).exit_code == 0
    monkeypatch.setenv("MICROCRED_SECRET_KEY", "change-me-change-me-change-me-change-me")
    result = CliRunner().invoke(main, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "placeholder" in result.output and "listening" not in result.output
    monkeypatch.setenv("MICROCRED_SECRET_KEY", "Zq3v9KpL0wX7mN2bT5yR8cF1hJ4dS6gA")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    result = CliRunner().invoke(main, ["serve", "--port", "1"])
    assert result.exit_code == 2 and "debug mode" in result.output
    monkeypatch.delenv("FLASK_DEBUG")
    monkeypatch.setenv("MICROCRED_API_RATE_LIMIT", "lots")         # any bad setting: refused before listening
    result = CliRunner().invoke(main, ["serve", "--port", "1"])
    assert result.exit_code == 2 and "MICROCRED_API_RATE_LIMIT must be a rate" in result.output
    assert "listening" not in result.output


# ------------------------------------------------------------------ microcred users

@pytest.fixture()
def cli_env(tmp_path, monkeypatch):
    for key, value in {"MICROCRED_INSTANCE": str(tmp_path / "instance"), "MICROCRED_KEYS": str(tmp_path / "keys"),
                       "MICROCRED_BASE_URL": "https://hr.example.com"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DATABASE_URL", raising=False)


def cli(*args, stdin=None):
    return CliRunner().invoke(main, list(args), input=stdin)


def test_microcred_users_create_list_set_password_disable(cli_env):
    result = cli("users", "create", "Hana", "--role", "admin", "--name", "Hana HR", "--password-stdin",
                 stdin=PASSWORD + "\n")
    assert result.exit_code == 0 and "Created admin hana" in result.output
    assert PASSWORD not in result.output
    result = cli("users", "create", "ivo", "--role", "issuer", stdin=f"{PASSWORD}\n{PASSWORD}\n")  # prompted twice
    assert result.exit_code == 0, result.output
    listing = cli("users", "list").output.splitlines()
    assert listing[0].startswith("hana\tadmin\tactive") and listing[1].startswith("ivo\tissuer\tactive")
    assert cli("users", "set-password", "ivo", "--password-stdin", stdin="the new passphrase\n").exit_code == 0
    assert cli("users", "disable", "ivo").exit_code == 0
    assert "ivo\tissuer\tdisabled" in cli("users", "list").output
    with open_instance(load_settings())() as session, pytest.raises(StaffError, match="disabled"):
        authenticate(session, "ivo", "the new passphrase")
    assert cli("users", "enable", "IVO").output == "ivo: enabled\n"
    with open_instance(load_settings())() as session:
        assert authenticate(session, "ivo", "the new passphrase").role == "issuer"


@pytest.mark.parametrize("args, stdin, message", [
    (("users", "create", "bob", "--role", "issuer", "--password-stdin"), "short\n", "at least 12 characters"),
    (("users", "create", "bob", "--role", "root", "--password-stdin"), PASSWORD + "\n", "Invalid value for '--role'"),
    (("users", "create", "b", "--role", "issuer", "--password-stdin"), PASSWORD + "\n", "a user name is"),
    (("users", "disable", "nobody"), None, "no user named 'nobody'"),
])
def test_microcred_users_errors_are_one_line_and_change_nothing(cli_env, args, stdin, message):
    result = cli(*args, stdin=stdin)
    assert result.exit_code == 2
    assert message in result.output and result.output.startswith("error:")
    assert cli("users", "list").output == ""


def test_form_attributes_are_markup_not_escaped_text(app):
    html = Console(app).get("/admin/login").get_data(as_text=True)
    assert 'autocomplete="username"' in html and "&#34;" not in html
    html = Console(app).login("ada").get("/admin/users").get_data(as_text=True)
    assert 'autocomplete="new-password" minlength="12"' in html and "&#34;" not in html


def test_an_upload_over_the_request_limit_gets_a_plain_page(app):
    admin = Console(app).login("ada")
    response = admin.post("/admin/users", {"username": "x" * (2 * 1024 * 1024)}, token_from="/admin/users",
                          headers={"Accept": "text/html"})
    assert response.status_code == 413
    assert "larger than this form accepts" in page_text(response)


@SQLITE_ONLY
def test_sign_in_attempts_are_rate_limited_per_address(app):
    app.config["ADMIN_LOGIN_RATE_LIMIT"] = "3/minute"
    console = Console(app)
    token = console.csrf_token()
    for _ in range(3):
        response = console.client.post("/admin/login", data={"username": "nobody", "password": "guess guess guess",
                                                              "csrf_token": token})
        assert response.status_code == 401
    response = console.client.post("/admin/login", data={"username": "ada", "password": PASSWORD,
                                                         "csrf_token": token}, headers={"Accept": "text/html"})
    assert response.status_code == 429 and "Too many sign-in attempts" in page_text(response)
    other = Console(app)       # the limit is per address: another client address still gets in
    response = other.client.post("/admin/login", data={"username": "ada", "password": PASSWORD,
                                                       "csrf_token": other.csrf_token()},
                                 environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert response.status_code == 303


def test_signing_out_ends_the_session_even_for_a_copied_cookie(app):
    hr = Console(app).login("ada")
    with hr.client.session_transaction() as session:
        copied = dict(session)
    hr.post("/admin/logout", token_from="/admin/keys")
    thief = Console(app)
    with thief.client.session_transaction() as session:
        session.update(copied)
    response = thief.get("/admin/keys")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")


def test_a_session_ends_at_most_twelve_hours_after_signing_in(app):
    from issuer.access.staff import SESSION_MAX_HOURS, SignedIn, still_valid

    hr = Console(app).login("ada")
    assert hr.get("/admin/keys").status_code == 200
    with hr.client.session_transaction() as session:
        signed_in = SignedIn(**session["staff"])
    later = datetime.now(UTC) + timedelta(hours=SESSION_MAX_HOURS)
    with app.extensions["microcred"].sessions() as db:
        assert still_valid(db, signed_in, now=later - timedelta(minutes=1)) is not None
        assert still_valid(db, signed_in, now=later + timedelta(minutes=1)) is None


def test_the_cookie_holds_no_password_hash_and_the_database_only_a_token_hash(app):
    from issuer.db.models_staff import StaffSession

    hr = Console(app).login("ada")
    with hr.client.session_transaction() as session:
        token = session["staff"]["session_token"]
        assert set(session["staff"]) == {"user_id", "username", "role", "session_version", "session_token"}
    with app.extensions["microcred"].sessions() as db:
        row = db.scalars(select(StaffSession)).one()
        assert row.token_hash != token and len(row.token_hash) == 64 and row.ended_at is None
