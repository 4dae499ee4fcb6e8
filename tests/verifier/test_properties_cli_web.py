"""Nothing crashes (issue 11 §4), through ``microcred verify`` and the standalone web app.

Properties, over the shapes of :mod:`tests.verifier.credential_shapes`:

* the CLI exits 0, 1, 2 or 3 and never shows a traceback; with ``--json`` it prints the report
  as JSON; 0 only for a verified credential;
* ``POST /api/verify`` answers 200 with a report, or a 4xx problem JSON, for any credential (an
  object, pasted text, an uploaded file) and any request body; never a 500;
* the HTML form (``POST /verify``) answers a page, 200 or 4xx, for any pasted text or file.

The issuer app's mounted verifier and the VC-API are in tests/issuer/web/vcapi/test_properties.py.
"""
from __future__ import annotations

import dataclasses
import io
import json
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.verifier import credential_shapes as shapes
from verifier.cli import verify as verify_command
from verifier.fetcher import StaticFetcher
from verifier.web import create_app
from verifier.web.state import STATE

PROPERTY = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
EXIT_CODES = {0: "verified", 1: "not_verified", 3: "indeterminate"}


# ---------------------------------------------------------------- the CLI

def run_cli(shape: shapes.Shape, *flags: str):
    """``microcred verify FILE --offline --resolve ...`` on ``shape``, in process."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder, "credential")
        data = shape.source
        source.write_bytes(data if isinstance(data, bytes) else shapes.text_of(data).encode("utf-8", "surrogatepass"))
        resolve = []
        for index, (url, document) in enumerate(shape.documents.items()):
            path = Path(folder, f"document-{index}")
            path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
            resolve += ["--resolve", f"{url}={path}"]
        args = [str(source), "--offline", "--at", "2026-06-01T00:00:00Z", *resolve, *flags]
        return CliRunner().invoke(verify_command, args, catch_exceptions=True)


@PROPERTY
@given(shapes.shapes, st.lists(st.sampled_from(("--json", "--strict")), unique=True),
       st.one_of(st.none(), st.just(shapes.EMAIL), shapes.json_strings))
def test_the_cli_exits_with_a_verdict_and_never_a_traceback(shape, flags, recipient):
    """``recipient`` may hold a lone surrogate: how Python hands over undecodable argv bytes."""
    if recipient is not None:
        flags = [*flags, "--recipient-email", recipient]
    result = run_cli(shape, *flags)
    assert result.exit_code in (0, 1, 2, 3), (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if "--json" in flags:
        report = json.loads(result.stdout)
        assert result.exit_code == 2 or EXIT_CODES[result.exit_code] == report["outcome"]


def test_the_cli_verifies_the_unchanged_credential():
    world = shapes.world()
    shape = shapes.Shape("ob3", world.credentials["ob3-rdfc"], world.documents)
    result = run_cli(shape, "--recipient-email", shapes.EMAIL)
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- the web app

@dataclasses.dataclass
class Web:
    client: object

    def api(self, **kwargs):
        return self.client.post("/api/verify", **kwargs)


def make_web() -> Web:
    """The standalone app, its rate limits off, serving only the world's documents (no network)."""
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "RATE_LIMIT": "100000 per second",
                      "TARGET_RATE_LIMIT": "100000 per second"})
    states = app.extensions[STATE]
    for name, state in states.items():
        states[name] = dataclasses.replace(state, fetcher=StaticFetcher(shapes.world().documents))
    return Web(app.test_client())


WEB = None


def web() -> Web:
    global WEB
    if WEB is None:
        WEB = make_web()
    return WEB


def form_body(fields: dict[str, str]) -> bytes:
    """A urlencoded body as a client sends it; a lone surrogate goes as its (invalid) UTF-8 bytes."""
    return urlencode(fields, encoding="utf-8", errors="surrogatepass").encode("ascii")


def assert_api_answer(response) -> dict:
    """200 with a report, or a 4xx problem JSON; never a 500."""
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    body = json.loads(response.get_data(as_text=True))
    if response.status_code == 200:
        assert body["outcome"] in EXIT_CODES.values()
    else:
        assert 400 <= response.status_code < 500 and response.mimetype == "application/problem+json", body
    return body


@PROPERTY
@given(shapes.shapes, st.sampled_from(("object", "text", "upload")))
def test_the_api_answers_any_credential_with_a_report_or_a_4xx(shape, how):
    source = shape.source
    if how == "upload" or isinstance(source, bytes):
        data = source if isinstance(source, bytes) else shapes.text_of(source).encode("utf-8", "surrogatepass")
        response = web().api(data={"file": (io.BytesIO(data), "badge")}, content_type="multipart/form-data")
    elif how == "object" and isinstance(source, dict):
        response = web().api(data=shapes.json_bytes({"credential": source}), content_type="application/json")
    else:
        response = web().api(data=shapes.json_bytes({"credential": shapes.text_of(source)}),
                             content_type="application/json")
    assert_api_answer(response)


api_bodies = st.one_of(
    shapes.json_values,
    st.dictionaries(st.sampled_from(("url", "credential", "recipient", "strict")), shapes.json_values, max_size=4),
    st.fixed_dictionaries({"url": st.one_of(shapes.json_strings,
                                            st.builds("https://{}/x".format, shapes.json_strings))}),
)


@PROPERTY
@given(api_bodies, st.sampled_from(("application/json", "application/ld+json", "text/plain",
                                    "application/x-www-form-urlencoded")))
def test_the_api_answers_any_body_with_a_report_or_a_4xx(body, content_type):
    data = shapes.json_bytes(body)
    if content_type == "application/x-www-form-urlencoded" and isinstance(body, dict):
        fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        response = web().api(data=form_body(fields), content_type=content_type)
    else:
        response = web().api(data=data, content_type=content_type)
    assert_api_answer(response)


@PROPERTY
@given(shapes.shapes, st.sampled_from(("text", "upload")), st.booleans())
def test_the_form_answers_any_credential_with_a_page(shape, how, strict):
    source = shape.source
    form = {"strict": "on"} if strict else {}
    if how == "upload" or isinstance(source, bytes):
        data = source if isinstance(source, bytes) else shapes.text_of(source).encode("utf-8", "surrogatepass")
        form["file"] = (io.BytesIO(data), "badge.png")
        response = web().client.post("/verify", data=form, content_type="multipart/form-data")
    else:
        form["credential"] = shapes.text_of(source)
        response = web().client.post("/verify", data=form_body(form),
                                     content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 400, 413), response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    assert "Traceback" not in response.get_data(as_text=True)
