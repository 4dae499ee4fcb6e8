"""The built wheel carries the contexts, schemas and samples, and works outside the checkout."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, sys
from importlib.resources import files
import issuer, verifier, microcred_contexts
from issuer.keys.files import generate_key
from verifier.proofs import verify_proofs
from verifier.keys import public_key_from_did_key
from verifier.schema import validate_credential
target = sys.argv[1]
for module in (issuer, verifier, microcred_contexts):
    assert module.__file__.startswith(target), module.__file__
credential = json.loads(files("issuer").joinpath("samples/teamwork-badge.json").read_text())
key = generate_key("ed25519")
did = key.public.to_did_key()
credential["issuer"]["id"] = did
signed = issuer.sign_credential(credential, key, verification_method=did + "#" + did[8:])
assert verify_proofs(signed, public_key_from_did_key).verified
assert validate_credential(signed) == []
print("ok")
"""


# Built from a copy of the source tree: setuptools builds in the tree's build/ directory, and two
# test workers building from the checkout at once collided there ("File exists: build/bdist...").
_ANYWHERE = shutil.ignore_patterns("__pycache__", "*.egg-info", "node_modules", ".mypy_cache", ".ruff_cache")
_AT_TOP = {".git", ".venv", "build", "test-artifacts"}  # the checkout's own, not its source


def _not_source(directory: str, names: list[str]) -> set[str]:
    ignored = set(_ANYWHERE(directory, names))
    if Path(directory) == ROOT:
        ignored |= _AT_TOP & set(names)
    return ignored


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source") / "microcred"
    shutil.copytree(ROOT, source, ignore=_not_source)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps", "--no-build-isolation",
                            "-w", str(out), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    (out / "build.log").write_text(built.stdout + built.stderr)
    return next(out.glob("microcred-*.whl"))


def test_building_prints_no_packaging_warning(wheel):
    """setuptools warns of data folders missing from `packages`, license classifiers, deprecated keys ..."""
    log = (wheel.parent / "build.log").read_text()
    warnings = [line for line in log.splitlines()
                if ("Warning" in line or "deprecat" in line.lower()) and "Location 'file:" not in line]
    assert warnings == []


def test_wheel_contains_every_context_and_schema(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "contexts").rglob("*.json*"):
        assert f"microcred_contexts/{path.relative_to(ROOT / 'contexts').as_posix()}" in names, path
    assert "issuer/samples/teamwork-badge.json" in names
    assert not any(name.startswith(("tests/", "keys/", "benchmarks/")) for name in names)


def test_installed_wheel_signs_and_verifies_outside_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, timeout=300)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(target)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_wheel_contains_every_module_template_and_static_file(wheel):
    """Nothing the running app needs is left out (e.g. a new subpackage or template folder)."""
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = (".py", ".html", ".js", ".css", ".svg", ".mako", ".json")
    for package in ("issuer", "verifier"):
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and path.suffix in shipped and "__pycache__" not in path.parts:
                assert path.relative_to(ROOT).as_posix() in names, path
