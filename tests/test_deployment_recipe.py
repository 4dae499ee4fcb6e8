"""The deployment recipe (Dockerfile, .dockerignore, compose.yaml, .env.example, docs/deployment.md)
agrees with the code, and what it runs works.

No Docker is needed. The files are parsed (PyYAML for compose.yaml, a small reader for the
Dockerfile's instructions) and checked against the real code: every ``microcred`` command they or
the page run is resolved in the real click CLI and its ``--help`` answers, with every option they
pass; every variable compose or the image sets is one the code reads, and every variable the code
reads is listed on docs/deployment.md; compose.yaml follows the Compose Specification's JSON Schema
(tests/fixtures/compose-spec: what Docker Compose validates a file with); the app servers and the
worker share the database, secret key, base URL and the data volume their instance and keys folders
are in; the image does not run as root and its build context is an allow-list.

Then the compose file's own commands run as real processes on a real PostgreSQL, with the
environment compose would give them (its ``${VAR:-default}`` interpolation is done here from a test
``.env``) and only the addresses changed: the database URL to the test's server, the data volume to
a folder in ``tmp_path``, ``0.0.0.0`` to ``127.0.0.1`` and the port to a free one. ``setup``
(``microcred init``) sets up and is safe to run again; an app server answers ``/healthz``,
``/readyz`` and ``/metrics`` and the Dockerfile's own HEALTHCHECK command passes against it; with
the redis profile and .env.example's Redis setting (the test's Redis in place of the ``redis``
service), it counts a verification in Redis; the worker starts and stops on SIGTERM.

What is not checked here: that ``docker build`` succeeds and that Docker Compose runs the file (the
suite does not need Docker); the wheel the image installs is built from the build context alone.
"""
from __future__ import annotations

import http.server
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import click
import jsonschema
import pytest
import redis
import yaml
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from issuer.cli import main
from tests.http_fixtures import unused_port
from tests.verifier.test_web_serve import wait_for

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "deployment.md"
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"

#: a name of an environment variable microcred reads (the names it uses are all of these shapes)
VARIABLE = re.compile(r"\b(MICROCRED_[A-Z0-9_]+|DATABASE_URL|PROMETHEUS_MULTIPROC_DIR|FLASK_DEBUG)\b")
#: compose interpolation: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
#: variables of the Dockerfile's ENV that belong to Python or the shell, not to microcred
PLATFORM_VARIABLES = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}
#: the .env of the tests (what an operator fills in from .env.example)
DOTENV = {"MICROCRED_BASE_URL": "https://badges.example.test", "ISSUER_NAME": "Example Corp",
          "MICROCRED_SECRET_KEY": secrets.token_urlsafe(48), "POSTGRES_PASSWORD": secrets.token_hex(12)}


# ------------------------------------------------------------------------------------------ readers

def code_variables() -> set[str]:
    """Every variable name the issuer, the verifier and the scripts mention (read, or named in a message)."""
    names: set[str] = set()
    for path in [*ROOT.glob("issuer/**/*.py"), *ROOT.glob("verifier/**/*.py"), *ROOT.glob("scripts/*.sh")]:
        names |= set(VARIABLE.findall(path.read_text(encoding="utf-8")))
    return names


def documented_names() -> set[str]:
    """The names written as code on docs/deployment.md (`NAME`)."""
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", DOCS.read_text(encoding="utf-8")))


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def interpolate(value: str, dotenv: dict[str, str]) -> str:
    """``value`` as Docker Compose interpolates it from ``dotenv`` (a required variable missing: KeyError)."""
    def one(match: re.Match) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        present = dotenv.get(name)
        if operator in (":-", "-"):
            return present if present or (operator == "-" and present is not None) else argument
        if operator in (":?", "?"):
            if present is None or (operator == ":?" and present == ""):
                raise KeyError(f"{name}: {argument}")
            return present
        return present or ""
    return INTERPOLATION.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def microcred_services(spec: dict) -> dict[str, dict]:
    """The services that run the microcred image (the ones with a ``microcred`` command)."""
    return {name: service for name, service in spec["services"].items()
            if isinstance(service.get("command"), list) and service["command"][:1] == ["microcred"]}


def services_running(spec: dict, *words: str) -> dict[str, dict]:
    return {name: service for name, service in microcred_services(spec).items()
            if service["command"][1:1 + len(words)] == list(words)}


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions (name, arguments), continuation lines joined, one list per stage."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    stages: list[list[tuple[str, str]]] = [[]]
    for line in lines:
        name, _, arguments = line.partition(" ")
        if name.upper() == "FROM":
            stages.append([])
        stages[-1].append((name.upper(), arguments.strip()))
    return stages      # stages[0]: what comes before the first FROM (ARG)


def final_stage() -> list[tuple[str, str]]:
    return dockerfile_stages()[-1]


def instruction(stage: list[tuple[str, str]], name: str) -> list[str]:
    return [arguments for instruction_name, arguments in stage if instruction_name == name]


def dockerfile_env() -> dict[str, str]:
    """The final stage's ENV (``NAME=value`` pairs)."""
    values: dict[str, str] = {}
    for arguments in instruction(final_stage(), "ENV"):
        for pair in shlex.split(arguments):
            name, _, value = pair.partition("=")
            values[name] = value
    return values


def exec_form(arguments: str) -> list[str]:
    """A CMD/HEALTHCHECK CMD in exec (JSON) form; the shell form is refused (it would run through /bin/sh)."""
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), arguments
    return value


def healthcheck_command() -> list[str]:
    (arguments,) = instruction(final_stage(), "HEALTHCHECK")
    _options, cmd, rest = arguments.partition(" CMD ")
    assert cmd, f"HEALTHCHECK without CMD: {arguments}"
    return exec_form(rest)


def default_command() -> list[str]:
    (arguments,) = instruction(final_stage(), "CMD")
    return exec_form(arguments)


def documented_commands() -> list[list[str]]:
    """Every ``microcred <command> ...`` written as code on docs/deployment.md (blocks and inline)."""
    text = DOCS.read_text(encoding="utf-8")
    spans = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    spans += re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    commands = []
    for span in spans:
        for line in re.split(r"\n(?!\s)", span):          # an indented line continues the previous one
            tokens = line.replace("\\\n", " ").split()
            for index, token in enumerate(tokens[:-1]):
                option_value = index > 0 and tokens[index - 1].startswith("-")        # pg_dump -U microcred
                if token == "microcred" and not option_value and re.fullmatch(r"[a-z][a-z-]*", tokens[index + 1]):
                    argv = []
                    for word in tokens[index:]:
                        if word in ("#", "|", "&&", ";", ">", "<") or word.startswith("#"):
                            break
                        argv.append(word)
                    commands.append(argv)
    return commands


def recipe_commands() -> list:
    """The ``microcred`` commands compose.yaml and the Dockerfile run, then the ones the page shows."""
    commands = [pytest.param(service["command"], id=f"compose.yaml {name}")
                for name, service in microcred_services(compose()).items()]
    commands.append(pytest.param(default_command(), id="Dockerfile CMD"))
    seen: set[tuple[str, ...]] = set()
    for argv in documented_commands():
        if tuple(argv) not in seen:
            seen.add(tuple(argv))
            commands.append(pytest.param(argv, id="deployment.md " + " ".join(argv[1:])))
    return commands


def resolve(argv: list[str]) -> tuple[list[str], click.Command]:
    """(the command's path, the click command) of ``microcred ...`` in the real CLI; fails for an unknown one."""
    assert argv[0] == "microcred", argv
    command: click.Command = main
    path: list[str] = []
    for word in argv[1:]:
        if not isinstance(command, click.Group) or word.startswith("-"):
            break
        found = command.get_command(click.Context(command), word)
        assert found is not None, f"{' '.join(argv)}: microcred has no command {' '.join([*path, word])!r}"
        command, path = found, [*path, word]
    assert not isinstance(command, click.Group), f"{' '.join(argv)} names a group, not a command"
    return path, command


# ------------------------------------------------------------------------------------------ commands

@pytest.mark.parametrize("argv", recipe_commands())
def test_every_microcred_command_the_recipe_runs_exists_with_its_options(argv):
    path, command = resolve(argv)
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    options = {name for parameter in command.params for name in (*parameter.opts, *parameter.secondary_opts)}
    used = {word.partition("=")[0] for word in argv[1 + len(path):] if word.startswith("--")}
    assert used <= options, f"{' '.join(argv)}: no such option {sorted(used - options)}"


COMPOSE_SCHEMA = ROOT / "tests" / "fixtures" / "compose-spec" / "compose-spec.json"


def test_compose_file_follows_the_compose_specification():
    """What Docker Compose checks before it runs a file (its JSON Schema), as written and as interpolated."""
    validator = jsonschema.Draft7Validator(json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8")))
    written = compose()
    interpolated = yaml.safe_load(interpolate(COMPOSE.read_text(encoding="utf-8"), DOTENV))
    for document in (written, interpolated):
        errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]
        assert errors == []
    broken = {**written, "services": {**written["services"], "worker": {**written["services"]["worker"], "restart": 3,
                                                                       "depend_on": ["setup"]}}}
    assert len(list(validator.iter_errors(broken))) == 2, "the schema is strict (a check that can fail)"


def test_the_recipe_has_setup_app_servers_and_a_worker():
    spec = compose()
    assert len(services_running(spec, "init")) == 1
    assert len(services_running(spec, "serve")) >= 2, "two app servers"
    assert len(services_running(spec, "worker")) == 1
    assert default_command()[:2] == ["microcred", "serve"]


# ------------------------------------------------------------------------------------------ variables

def test_every_variable_the_code_reads_is_documented():
    missing = code_variables() - documented_names()
    assert not missing, f"not on docs/deployment.md: {sorted(missing)}"


def test_every_variable_compose_and_the_image_set_is_read_by_the_code_and_documented():
    read, documented = code_variables(), documented_names()
    set_by_compose = {name for service in microcred_services(compose()).values() for name in service["environment"]}
    set_by_image = set(dockerfile_env()) - PLATFORM_VARIABLES
    assert "DATABASE_URL" in set_by_compose and "MICROCRED_KEYS" in set_by_image       # the readers see them
    for name in sorted(set_by_compose | set_by_image):
        assert name in read, f"{name} is set but microcred never reads it"
        assert name in documented, f"{name} is set but not on docs/deployment.md"


def test_every_setting_compose_takes_from_env_is_documented_and_in_the_example():
    names = {match.group(1) for match in INTERPOLATION.finditer(COMPOSE.read_text(encoding="utf-8"))}
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert {"MICROCRED_BASE_URL", "MICROCRED_SECRET_KEY", "POSTGRES_PASSWORD", "ISSUER_NAME"} <= names
    for name in sorted(names):
        assert name in documented_names(), f"compose reads ${{{name}}}, not on docs/deployment.md"
        assert re.search(rf"^(# )?{name}=", example, flags=re.M), f"{name} is not in .env.example"
    for name in sorted(set(re.findall(r"\$\{([A-Z0-9_]+):\?", COMPOSE.read_text(encoding="utf-8")))):
        assert re.search(rf"^{name}=$", example, flags=re.M), f"{name} is required: .env.example must list it, empty"


def test_the_base_url_and_secrets_have_no_default():
    """An http base URL or a known secret must never come from the recipe: compose stops without them."""
    text = COMPOSE.read_text(encoding="utf-8")
    for name in ("MICROCRED_BASE_URL", "MICROCRED_SECRET_KEY", "POSTGRES_PASSWORD"):
        uses = re.findall(rf"\$\{{{name}([^}}]*)\}}", text)
        assert uses and all(use.startswith(":?") for use in uses), f"${{{name}}} must be required (:?): {uses}"
    with pytest.raises(KeyError, match="MICROCRED_SECRET_KEY"):
        interpolate("${MICROCRED_SECRET_KEY:?set it}", {"MICROCRED_SECRET_KEY": ""})
    secret_names = re.compile(r"SECRET|PASSWORD|PASSPHRASE|TOKEN", re.I)
    for stage in dockerfile_stages():
        for name, arguments in stage:
            if name in ("ENV", "ARG"):
                assert not secret_names.search(arguments), f"a secret in the image: {name} {arguments}"


# ------------------------------------------------------------------------------------------ sharing

def test_app_servers_and_worker_share_database_secret_base_url_queue_and_data_volume():
    spec = compose()
    sharing = {**services_running(spec, "serve"), **services_running(spec, "worker"), **services_running(spec, "init")}
    shared = ("DATABASE_URL", "MICROCRED_SECRET_KEY", "MICROCRED_BASE_URL", "MICROCRED_QUEUE",
              "MICROCRED_INSTANCE", "MICROCRED_KEYS", "MICROCRED_RATELIMIT_STORAGE_URI")
    for name in shared:
        values = {service["environment"].get(name) for service in sharing.values()}
        assert len(values) == 1 and None not in values, f"{name} differs between {sorted(sharing)}: {values}"
    first = next(iter(sharing.values()))["environment"]
    assert first["MICROCRED_QUEUE"] == "postgres"
    database = make_url(interpolate(first["DATABASE_URL"], {"POSTGRES_PASSWORD": "pw"}))
    assert database.get_backend_name() == "postgresql" and database.host in spec["services"]
    assert spec["services"][database.host]["image"].startswith("postgres:")

    volumes = {name: service["volumes"] for name, service in sharing.items()}
    assert len({tuple(v) for v in volumes.values()}) == 1, f"different volumes: {volumes}"
    source, _, target = next(iter(volumes.values()))[0].partition(":")
    assert source in spec["volumes"], f"{source} is not a named volume"
    for name in ("MICROCRED_INSTANCE", "MICROCRED_KEYS"):
        assert Path(first[name]).is_relative_to(target), f"{name} {first[name]} is not in the shared {target}"
        assert dockerfile_env()[name] == first[name], f"the image and compose disagree on {name}"


def test_services_start_in_order_and_postgres_and_redis_are_checked():
    spec = compose()
    services = spec["services"]
    (setup_name,) = services_running(spec, "init")
    assert services[setup_name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services[setup_name]["restart"] == "no"
    for name in [*services_running(spec, "serve"), *services_running(spec, "worker")]:
        assert services[name]["depends_on"][setup_name]["condition"] == "service_completed_successfully", name
    for name in services_running(spec, "serve"):
        redis = services[name]["depends_on"]["redis"]
        assert redis["required"] is False, "Redis is optional: the app servers start without the profile"
        assert all(port.startswith("127.0.0.1:") for port in services[name]["ports"]), \
            "app servers are reached through the TLS reverse proxy, not published on every interface"
    for name in [*services_running(spec, "worker"), setup_name]:
        assert services[name]["healthcheck"] == {"disable": True}, f"{name} serves no HTTP: the image's check is off"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["profiles"] == ["redis"] and services["redis"]["healthcheck"]["test"]


# ------------------------------------------------------------------------------------------ the image

def test_the_image_does_not_run_as_root():
    users = instruction(final_stage(), "USER")
    assert users, "the final stage sets no USER: the container would run as root"
    user = users[-1].partition(":")[0]
    assert user not in ("root", "0") and user.isdigit(), \
        f"USER {users[-1]}: a numeric, unprivileged user (so Kubernetes' runAsNonRoot can check it)"
    last_user = max(i for i, (name, _) in enumerate(final_stage()) if name == "USER")
    assert not [args for name, args in final_stage()[last_user:] if name == "RUN"], "RUN after USER"


def test_the_image_is_slim_python_311_built_from_the_wheel():
    (base,) = instruction(dockerfile_stages()[0], "ARG")
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim(-[a-z]+)?", base)
    assert len(dockerfile_stages()) == 3, "two stages: build, then run"
    build = " ".join(instruction(dockerfile_stages()[1], "RUN"))
    assert "pip wheel" in build and re.search(r"pip install /dist/microcred-\*\.whl", build)
    assert any(args.startswith("--from=build ") for args in instruction(final_stage(), "COPY"))


def test_the_default_command_the_healthcheck_and_the_port_agree():
    command = default_command()
    assert command[command.index("--host") + 1] == "0.0.0.0"
    port = command[command.index("--port") + 1]
    assert instruction(final_stage(), "EXPOSE") == [port]
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(healthcheck_command())
    for service in services_running(compose(), "serve").values():
        assert service["command"] == command, "an app server runs the image's own command"
        assert all(mapping.endswith(f":{port}") for mapping in service["ports"])


def test_the_build_context_is_an_allow_list_without_keys_or_secrets():
    patterns = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*", "everything is left out unless named"
    allowed = {pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")}
    assert not allowed & {"keys", "instance", ".env", ".git", ".venv", "tests"}
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split(), ".env holds the secrets compose reads"
    for arguments in instruction(dockerfile_stages()[1], "COPY"):
        *sources, _target = arguments.split()
        for source in sources:
            assert source in allowed, f"COPY {source}: not in the build context (.dockerignore)"
            assert (ROOT / source).exists(), source


def test_the_wheel_builds_from_the_build_context_alone(tmp_path):
    """What the build stage copies (and .dockerignore lets through) is enough for the whole wheel:
    every module, template and static file of the checkout is in it (the image installs only this)."""
    context = tmp_path / "context"
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for arguments in instruction(dockerfile_stages()[1], "COPY"):
        *sources, _target = arguments.split()
        for source in sources:
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, context / source, ignore=ignored)
            else:
                context.mkdir(exist_ok=True)
                shutil.copy2(ROOT / source, context / source)
    out = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out),
                            str(context)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    names = set(zipfile.ZipFile(next(out.glob("microcred-*.whl"))).namelist())
    shipped = (".py", ".html", ".js", ".css", ".svg", ".mako", ".json", ".txt")
    for package in ("issuer", "verifier"):
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and path.suffix in shipped and "__pycache__" not in path.parts:
                assert path.relative_to(ROOT).as_posix() in names, f"{path} is not in the image's wheel"
    for path in (ROOT / "contexts").rglob("*.json*"):
        assert f"microcred_contexts/{path.relative_to(ROOT / 'contexts').as_posix()}" in names, path


def _healthcheck_against(port: int) -> subprocess.CompletedProcess:
    command = [word.replace("127.0.0.1:5000", f"127.0.0.1:{port}") for word in healthcheck_command()]
    assert command[0] == "python"
    return subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("status, passes", [(200, True), (503, False)])
def test_the_healthcheck_command_passes_only_on_a_healthy_answer(status, passes):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the handler's name
            self.send_response(status if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert (_healthcheck_against(server.server_address[1]).returncode == 0) is passes
    finally:
        server.shutdown()
        server.server_close()
    assert _healthcheck_against(unused_port()).returncode != 0, "nothing listening: unhealthy"


# ------------------------------------------------------------------------------------------ running it

class Recipe:
    """The compose services' commands and environments, moved onto this machine."""

    def __init__(self, tmp_path: Path, database_url: str, dotenv: dict[str, str] | None = None,
                 redis_url: str | None = None) -> None:
        self.spec = compose()
        self.data = tmp_path / "data"
        self.data.mkdir(mode=0o700)
        self.database_url = database_url
        self.redis_url = redis_url
        self.dotenv = {**DOTENV, **(dotenv or {})}
        self.metrics = tmp_path / "metrics"

    def environment(self, service: dict) -> dict[str, str]:
        env = {name: interpolate(str(value), self.dotenv) for name, value in service["environment"].items()}
        assert env["DATABASE_URL"] == f"postgresql://microcred:{DOTENV['POSTGRES_PASSWORD']}@postgres:5432/microcred"
        env["DATABASE_URL"] = self.database_url
        store = urlsplit(env["MICROCRED_RATELIMIT_STORAGE_URI"])
        if store.scheme == "redis":     # the compose service "redis" on its port: the test's server
            assert (store.hostname, store.port) == ("redis", 6379) and "redis" in self.spec["services"]
            assert self.redis_url, "the redis profile needs the test's Redis"
            env["MICROCRED_RATELIMIT_STORAGE_URI"] = self.redis_url
        _source, _, target = service["volumes"][0].partition(":")
        for name in ("MICROCRED_INSTANCE", "MICROCRED_KEYS"):
            env[name] = str(self.data / Path(env[name]).relative_to(target))
        if "PROMETHEUS_MULTIPROC_DIR" in env:
            self.metrics.mkdir(exist_ok=True)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(self.metrics)
        inherited = {k: v for k, v in os.environ.items() if not VARIABLE.fullmatch(k)}
        return {**inherited, **env}

    def argv(self, service: dict, port: int | None = None) -> list[str]:
        words = [interpolate(word, self.dotenv) for word in service["command"]]
        if port is not None:
            words[words.index("--host") + 1] = "127.0.0.1"
            words[words.index("--port") + 1] = str(port)
        return [sys.executable, "-c", "from issuer.cli import main; main()", *words[1:]]

    def service(self, *words: str) -> dict:
        return next(iter(services_running(self.spec, *words).values()))

    def run(self, *words: str) -> subprocess.CompletedProcess:
        service = self.service(*words)
        return subprocess.run(self.argv(service), env=self.environment(service), capture_output=True, text=True,
                              timeout=180)

    def start(self, *words: str, port: int | None = None) -> subprocess.Popen:
        service = self.service(*words)
        return subprocess.Popen(self.argv(service, port), env=self.environment(service), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)


@pytest.fixture
def recipe(tmp_path, db_url) -> Iterator[Recipe]:
    yield Recipe(tmp_path, db_url)


def _stop(process: subprocess.Popen, seconds: float = 60) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=seconds)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0]


def example_setting(name: str) -> str:
    """The value .env.example suggests for ``name`` (on its line, commented out or not)."""
    found = re.search(rf"^(?:# )?{name}=(.*)$", ENV_EXAMPLE.read_text(encoding="utf-8"), flags=re.M)
    assert found, name
    return found.group(1)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_setup_then_an_app_server_run_as_compose_runs_them(recipe):
    first = recipe.run("init")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Initialized Example Corp (did:web:badges.example.test)" in first.stdout
    again = recipe.run("init")          # every `docker compose up` runs it again: it only migrates
    assert again.returncode == 0 and "Already initialized" in again.stdout, again.stdout + again.stderr
    assert list((recipe.data / "keys").glob("*.jwk")), "the first key is in the shared data volume"

    port = unused_port()
    server = recipe.start("serve", port=port)
    try:
        wait_for(port, server, seconds=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert json.load(answer) == {"status": "ok"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as answer:
            assert json.load(answer)["checks"]["database"]["ok"] is True
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/.well-known/did.json", timeout=10) as answer:
            assert json.load(answer)["id"] == "did:web:badges.example.test"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            assert b"microcred_http_requests_total" in answer.read()
        assert list(recipe.metrics.glob("*.db")), "PROMETHEUS_MULTIPROC_DIR is used: one sum over the workers"
        health = _healthcheck_against(port)
        assert health.returncode == 0, health.stderr
    finally:
        output = _stop(server)
    assert "gunicorn, 2 workers x 8 threads" in output
    assert "warning" not in output.lower(), output


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_with_the_redis_profile_an_app_server_counts_limits_in_redis(tmp_path, db_url, redis_url):
    """.env.example's Redis setting, as the redis profile's service answers it, is the store the app uses."""
    recipe = Recipe(tmp_path, db_url, {"MICROCRED_RATELIMIT_STORAGE_URI": example_setting(
        "MICROCRED_RATELIMIT_STORAGE_URI")}, redis_url)
    assert recipe.run("init").returncode == 0
    port = unused_port()
    server = recipe.start("serve", port=port)
    client = redis.Redis.from_url(redis_url)
    try:
        wait_for(port, server, seconds=60)
        assert client.dbsize() == 0
        request = urllib.request.Request(f"http://127.0.0.1:{port}/verify/api/verify", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError):       # not a credential; counted all the same
            urllib.request.urlopen(request, timeout=30)
        assert client.dbsize() > 0, "the verification was counted in Redis"
    finally:
        client.close()
        _stop(server)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_worker_runs_as_compose_runs_it(recipe):
    setup = recipe.run("init")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    worker = recipe.start("worker")
    try:
        time.sleep(5)
        assert worker.poll() is None, f"the worker stopped: {_stop(worker)}"
    finally:
        output = _stop(worker, seconds=60)      # compose's stop_grace_period
    assert worker.returncode is not None and worker.returncode in (0, -signal.SIGTERM, 128 + signal.SIGTERM), output
