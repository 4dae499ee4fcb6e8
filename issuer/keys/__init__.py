"""The issuer's signing keys: files (:mod:`issuer.keys.files`), the keyring in the database
(:mod:`issuer.keys.keyring`) and the keys service (:mod:`issuer.keys.service`).

The key-file functions keep their documented import path (``from issuer.keys import generate_key,
load_key, save_key``), which users' signing scripts rely on.
"""
from issuer.keys.files import KeyPair, generate_key, load_key, save_key

__all__ = ["KeyPair", "generate_key", "load_key", "save_key"]
