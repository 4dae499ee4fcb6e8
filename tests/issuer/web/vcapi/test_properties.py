"""Nothing crashes (issue 11 §4), through the issuer app: the VC-API and the mounted verifier.

Properties, over the shapes of :mod:`tests.verifier.credential_shapes`:

* ``POST /credentials/verify`` answers 200, 400 or 422 problem JSON for any credential and any
  body; 200 only with ``verified: true``;
* ``POST /presentations/verify`` answers 200, 400 or 422 for any presentation, challenge and domain;
* ``POST /credentials/issue`` never answers a 500 for any credential (the world's credential,
  unsigned and issued as this installation's did:key, changed anywhere), and what it signs verifies;
* the verifier mounted at ``/verify`` answers its API with a report or a 4xx, and its form with a page.
"""
from __future__ import annotations

import dataclasses
import io
import itertools
import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.issuer.web.vcapi.test_vcapi import env  # noqa: F401  (the shared module-scoped app)
from tests.verifier import credential_shapes as shapes
from verifier.fetcher import StaticFetcher
from verifier.web.state import STATE

PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
ADDRESSES = (f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in itertools.count(1))


@pytest.fixture(scope="module")
def app(env):  # noqa: F811
    """The VC-API offline, the mounted verifier serving only the world's documents."""
    saved = dict(env.app.config)
    env.app.config.update(VCAPI_OFFLINE=True, API_RATE_LIMIT="100000/minute")   # many requests, one token
    states = env.app.extensions[STATE]
    original = dict(states)
    for name, state in states.items():
        states[name] = dataclasses.replace(state, fetcher=StaticFetcher(shapes.world().documents))
    yield env
    states.update(original)
    env.app.config.clear()
    env.app.config.update(saved)


def post(env, path: str, body, *, token: str | None = "vcapi-issue", raw: bytes | None = None):  # noqa: F811
    """POST JSON as an HTTP client sends it (lone surrogates as escapes), from a fresh client
    address each time so the per-client rate limits stay out of the way."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {env.tokens[token]}"
    return env.client.post(path, data=raw if raw is not None else shapes.json_bytes(body), headers=headers,
                           environ_base={"REMOTE_ADDR": next(ADDRESSES)})


def answer(response, allowed: tuple[int, ...]) -> dict:
    assert response.status_code in allowed, response.get_data(as_text=True)[:2000]
    assert response.mimetype in ("application/json", "application/problem+json"), response.mimetype
    return json.loads(response.get_data(as_text=True))


# ---------------------------------------------------------------- verifying

@PROPERTY
@given(shapes.shapes)
def test_credentials_verify_answers_200_400_or_422(app, shape):
    body = answer(post(app, "/credentials/verify", {"verifiableCredential": shapes.json_value_of(shape.source)}, token="read"),
                  (200, 400, 422))
    assert body.get("verified", False) is (body.get("status", 200) == 200)


@PROPERTY
@given(shapes.json_values)
def test_credentials_verify_answers_any_body_with_200_400_or_422(app, body):
    answer(post(app, "/credentials/verify", body, token="read"), (200, 400, 422))


@PROPERTY
@given(shapes.presentations(), st.booleans())
def test_presentations_verify_answers_200_400_or_422(app, shape, with_options):
    body = {"verifiablePresentation": shape.presentation}
    if with_options:
        body["options"] = {k: v for k, v in (("challenge", shape.challenge), ("domain", shape.domain))
                           if v is not None}
    answer(post(app, "/presentations/verify", body, token="read"), (200, 400, 422))


# ---------------------------------------------------------------- issuing

@st.composite
def credentials_to_issue(draw, did: str):
    """The world's OB 3.0 credential, unsigned, issued as ``did``, changed in up to three places."""
    base = {k: v for k, v in shapes.world().credentials["ob3-rdfc"].items() if k not in ("proof", "endorsement")}
    base = {**base, "issuer": {**base["issuer"], "id": did}}
    base.pop("credentialStatus")
    document = base
    for change in draw(st.lists(shapes.mutations(base, focus=shapes.FOCUS), max_size=3)):
        document = change.apply(document)
    return document


@PROPERTY
@given(st.data())
def test_credentials_issue_never_answers_500(app, data):
    credential = data.draw(credentials_to_issue(app.did_key))
    response = post(app, "/credentials/issue", {"credential": credential, "options": {}})
    body = answer(response, (201, 400, 422))
    if response.status_code == 201:
        signed = body["verifiableCredential"]
        check = answer(post(app, "/credentials/verify", {"verifiableCredential": signed}, token="read"),
                       (200, 422))
        assert check["verified"] or all(e["check"] not in ("key", "issuer_binding", "proof")
                                        for e in check["errors"]), check


# ---------------------------------------------------------------- the mounted verifier

@PROPERTY
@given(shapes.shapes, st.sampled_from(("api", "form")))
def test_the_mounted_verifier_answers_with_a_report_or_a_page(app, shape, where):
    source = shape.source
    text = shapes.text_of(source)
    address = {"REMOTE_ADDR": next(ADDRESSES)}
    if isinstance(source, bytes):
        form = {"file": (io.BytesIO(source), "badge")}
        path = "/verify/api/verify" if where == "api" else "/verify"
        response = app.client.post(path, data=form, content_type="multipart/form-data", environ_base=address)
    elif where == "api":
        response = app.client.post("/verify/api/verify", data=shapes.json_bytes({"credential": text}),
                                   content_type="application/json", environ_base=address)
    else:
        response = app.client.post("/verify", content_type="application/x-www-form-urlencoded", environ_base=address,
                                   data=urlencode({"credential": text}, errors="surrogatepass").encode("ascii"))
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    if response.status_code == 200 and response.mimetype == "application/json":
        assert json.loads(response.get_data(as_text=True))["outcome"] in ("verified", "not_verified", "indeterminate")
