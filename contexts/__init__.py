"""The pinned JSON-LD contexts and JSON Schemas microcred ships (package data).

This folder is installed as the package ``microcred_contexts``; ``index.json`` maps
each context URL to its file, sha256 and source package. Code reads it through
``verifier.contexts``; nothing here is loaded from the network.
"""
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
