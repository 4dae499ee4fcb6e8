"""A small, real issuer on a loopback HTTPS server, for end-to-end verifier tests.

It publishes a did:web DID document (one Ed25519 key for issuing, one only for
authentication), an https issuer profile with its keys, and Bitstring status
lists; it signs credentials with the verifier's own proof stages
(tests/verifier/signing_support.py), so no ``issuer`` package is needed. Every
negative fixture is made by changing one thing in a freshly issued valid credential.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.verifier.signing_support import TestSigner, sign_credential_jwt, sign_data_integrity
from verifier.bitstring import encode_bitstring

V2 = "https://www.w3.org/ns/credentials/v2"
CREATED = "2026-01-10T00:00:00Z"
JWT = "jwt"
SAMPLE = Path(__file__).parent / "fixtures" / "teamwork-badge.json"  # a copy of issuer/samples/teamwork-badge.json


def sample_credential() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def sign(credential: dict, key: TestSigner, *, vm: str, cryptosuite: str = "eddsa-rdfc-2022",
         created: str = CREATED) -> dict | str:
    """What ``issuer.sign_credential`` returns: a copy with one more Data Integrity proof, or a VC-JWT."""
    if cryptosuite == JWT:
        return sign_credential_jwt(credential, key, kid=vm)
    return sign_data_integrity(credential, key, cryptosuite=cryptosuite, created=created, verificationMethod=vm)


def status_list_bits(revoked=(), size=131_072) -> bytes:
    bits = bytearray(size // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    return bytes(bits)


@dataclass
class IssuerWorld:
    server: object  # tests.http_fixtures.LoopbackServer
    key: TestSigner = field(default_factory=TestSigner)
    auth_key: TestSigner = field(default_factory=TestSigner)

    def __post_init__(self) -> None:
        self.did = self.server.did_web()
        self.vm = f"{self.did}#key-1"
        self.auth_vm = f"{self.did}#auth-1"
        self.did_document = {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": self.did,
            "verificationMethod": [
                {"id": self.vm, "type": "Multikey", "controller": self.did,
                 "publicKeyMultibase": self.key.public.to_multibase()},
                {"id": self.auth_vm, "type": "Multikey", "controller": self.did,
                 "publicKeyMultibase": self.auth_key.public.to_multibase()},
            ],
            "assertionMethod": [self.vm],
            "authentication": [self.auth_vm],
        }
        self.server.set_json("/.well-known/did.json", self.did_document, content_type="application/did+json")
        self.others: list = []  # extra servers (other origins), stopped with the world

    def other_origin(self):
        """Another loopback HTTPS server: same CA, different port, so a different origin."""
        from tests.http_fixtures import LoopbackServer

        other = LoopbackServer(tls=self.server.tls)
        self.others.append(other)
        return other

    def close(self) -> None:
        for other in self.others:
            other.stop()

    # ------------------------------------------------------------ credentials
    def unsigned(self, **changes) -> dict:
        credential = sample_credential()
        credential["issuer"]["id"] = self.did
        credential.update(changes)
        return credential

    def sign(self, credential: dict, *, key: TestSigner | None = None, vm: str | None = None,
             cryptosuite: str = "eddsa-rdfc-2022"):
        return sign(credential, key or self.key, vm=vm or self.vm, cryptosuite=cryptosuite)

    def issue(self, **changes):
        return self.sign(self.unsigned(**changes))

    def publish_https_profile(self, jwk: dict, *, key_id: str = "rsa-1") -> tuple[str, str]:
        """An https issuer profile at /issuer listing one JsonWebKey for issuing: (profile id, method id)."""
        profile = self.server.url("/issuer")
        method = f"{profile}#{key_id}"
        self.server.set_json("/issuer", {
            "@context": [V2, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
            "id": profile, "type": ["Profile"], "name": "Example Corp",
            "verificationMethod": [{"id": method, "type": "JsonWebKey", "controller": profile, "publicKeyJwk": jwk}],
            "assertionMethod": [method],
        })
        return profile, method

    # ------------------------------------------------------------ status lists
    def publish_status_list(self, path: str, *, purpose: str = "revocation", revoked=(), issuer_did: str | None = None,
                            key: TestSigner | None = None, vm: str | None = None,
                            valid_from: str = "2026-01-01T00:00:00Z") -> str:
        url = self.server.url(path)
        list_credential = {
            "@context": [V2],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": issuer_did or self.did,
            "validFrom": valid_from,
            "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                                  "encodedList": encode_bitstring(status_list_bits(revoked))},
        }
        signed = sign(list_credential, key or self.key, vm=vm or self.vm)
        self.server.set_json(path, signed, content_type="application/vc+ld+json")
        return url

    def with_status(self, credential: dict, url: str, index: int, purpose: str = "revocation") -> dict:
        credential = copy.deepcopy(credential)
        credential["credentialStatus"] = {"id": f"{url}#{index}", "type": "BitstringStatusListEntry",
                                          "statusPurpose": purpose, "statusListIndex": str(index),
                                          "statusListCredential": url}
        return credential
