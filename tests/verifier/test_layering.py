"""Layering guard (issue 11 §8): the verifier is the lower layer and never needs the issuer.

(a) no module under verifier/ imports ``issuer``; (b) no test module under tests/verifier/
imports ``issuer`` (or the issuer's tests); (c) the verifier's entry points import in a fresh
interpreter where importing ``issuer`` is impossible.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("issuer", "tests.issuer")
ENTRY_POINTS = ("verifier", "verifier.verify", "verifier.web", "verifier.cli", "verifier.presentation")


def _forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


def _package_of(path: Path, root: Path) -> list[str]:
    """The package a module belongs to, as name parts (relative imports resolve against it)."""
    return list(path.relative_to(root).parent.parts)


def _imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import statement and literal dynamic import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _package_of(path, root)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1] if node.level <= len(package) else []
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module:
                found.append((node.lineno, module))
            # ``from tests import issuer`` / ``from .. import issuer`` name a module too
            found += [(node.lineno, f"{module}.{alias.name}" if module else alias.name) for alias in node.names]
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def _offenders(folder: Path, root: Path = ROOT) -> list[str]:
    sources = sorted(folder.rglob("*.py"))
    assert sources, f"no Python sources under {folder}"
    return [f"{path.relative_to(root)}:{line}: {module}"
            for path in sources for line, module in _imported_modules(path, root) if _forbidden(module)]


def test_the_scanner_sees_every_form_of_import(tmp_path):
    package = tmp_path / "verifier" / "checks"
    package.mkdir(parents=True)
    samples = ["import issuer", "import issuer.keys.files as k", "from issuer import sign_credential",
               "from issuer.vc_jwt import sign_vc_jwt", "from ... import issuer",
               "import importlib\nimportlib.import_module('issuer.keys.files')", "__import__('issuer')",
               "from tests.issuer.web.vcapi.test_vcapi import env", "from tests import issuer"]
    for number, source in enumerate(samples):
        (package / f"m{number}.py").write_text(source + "\n")
    (package / "fine.py").write_text("import verifier.keys\nfrom . import issuer_world\nfrom ..keys import PublicKey\n"
                                     "from pyld.identifier_issuer import IdentifierIssuer\n")
    offenders = _offenders(tmp_path / "verifier", tmp_path)
    assert {line.split(":")[0] for line in offenders} == {f"verifier/checks/m{n}.py" for n in range(len(samples))}


@pytest.mark.parametrize("folder", ["verifier", "tests/verifier"])
def test_nothing_in_the_verifier_layer_imports_the_issuer(folder):
    assert _offenders(ROOT / folder) == []


def test_the_verifier_imports_where_the_issuer_cannot_be_imported():
    code = (
        "import sys\n"
        "sys.modules['issuer'] = None  # any import of issuer or issuer.* now raises ImportError\n"
        "try:\n"
        "    import issuer\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('issuer is still importable')\n"
        f"for name in {ENTRY_POINTS!r}:\n"
        "    __import__(name)\n"
        "import verifier.web\n"
        "verifier.web.create_app()\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('issuer.') or (m == 'issuer' and sys.modules[m]))\n"
        "assert not loaded, loaded\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
