"""verifier/pyld_loaded.py keeps requests out of pyld's import, and only for that moment."""
from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          timeout=120).stdout.strip()


def test_pyld_loads_without_requests_and_requests_still_imports_afterwards() -> None:
    out = _run("import sys\n"
               "import verifier.pyld_loaded as p\n"
               "print('requests' in sys.modules, p.jsonld._default_document_loader.__name__)\n"
               "import requests\n"
               "print(requests.Session.__name__)\n")
    # pyld fell back to its dummy loader (a plain function that refuses every URL, not a
    # RequestsDocumentLoader); a later import of requests works
    assert out.splitlines() == ["False loader", "Session"]


def test_when_requests_is_already_loaded_pyld_uses_it_as_before() -> None:
    out = _run("import requests, sys\n"
               "import verifier.pyld_loaded as p\n"
               "print(sys.modules['requests'] is requests, type(p.jsonld._default_document_loader).__name__)\n")
    assert out == "True RequestsDocumentLoader"
