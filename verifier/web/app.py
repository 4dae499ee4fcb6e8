"""The recruiter's verifier on the web: the blueprint, the standalone app and running a verification.

Routes, standalone (:func:`create_app`); mounted under a prefix ``P`` (:func:`verifier_blueprint`
with ``url_prefix=P``) the form and the results share ``P`` itself, so ``P?url=...`` works::

    GET  /                  the form: a link, pasted JSON or JWT, or a file; optional recipient email
    GET  /verify?url=URL    verify the credential at URL (the shareable link a badge page or CV uses)
    POST /verify            verify what the form sent
    POST /api/verify        the same as JSON or multipart; answers report.to_dict() (see openapi.json)
    GET  /openapi.json      the API description (OpenAPI 3.1)

The parts: :mod:`.state` (settings, the app's one long-lived fetcher and its limits),
:mod:`.submission` (reading the request), :func:`run` here (one verification), :mod:`.display`
(what the result page shows; everything a credential says is attacker-controlled) and
:mod:`.responses` (pages, problem JSON, security headers).

Each verification has its own budget (``FetchPolicy.max_fetches``, ``max_fetches_per_host``,
20 s) in which the submitted link counts too. On top of the app's per-host limits, submitted
links are limited per target host (``TARGET_RATE_LIMIT``) and verifications per client
(``RATE_LIMIT``), both in ``RATELIMIT_STORAGE_URI`` storage.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import BadRequest, HTTPException, UnsupportedMediaType
from werkzeug.middleware.proxy_fix import ProxyFix

from ..baked import sniff_image
from ..checks.parse import CREDENTIAL_ACCEPT, MAX_INPUT_BYTES, MAX_JSON_BYTES
from ..fetcher import Fetcher, FetchError
from ..plain import fetch_facts
from ..report import FAILED, CheckResult, VerificationReport, explain
from ..verify import verify_credential
from .display import credential_like, present, readable
from .markdown import render_markdown
from .metrics import count_verification, metrics_response
from .ratelimit import ClientLimit
from .responses import error_response, internal_error, page, report_json, security_headers
from .state import STATE, VerifierState, make_state, merged_settings, state
from .submission import Submission, TargetBusy, entered_url, from_form, from_json, submission

# ---------------------------------------------------------------- verifying

def run(sub: Submission, *, display: bool = True) -> tuple[VerificationReport, dict[str, Any] | None]:
    """Verify ``sub``; also return the credential as read (unverified), for display (None when
    not ``display``: the API answers the report only)."""
    verifier = state()
    fetcher = verifier.fetcher.for_verification()     # one budget: the link and all that follows
    documents, raw = None, sub.source
    if sub.url is not None:
        try:
            host = urlsplit(sub.url).hostname or ""
        except ValueError:      # e.g. "https://[]/": the fetcher refuses it below as a malformed address
            host = ""
        if not verifier.target_limit(host):
            raise TargetBusy()
        try:   # fetched here so that the page shows exactly the bytes that were verified
            response = fetcher.fetch(sub.url, accept=CREDENTIAL_ACCEPT, max_bytes=MAX_INPUT_BYTES)
        except FetchError as exc:
            if exc.code == "host_rate_limited":
                raise TargetBusy() from exc
            return unreachable(sub.url, exc), None
        documents, raw = {sub.url: response.body}, response.body
        if not sniff_image(raw) and not credential_like(read := readable(raw)):
            return not_a_credential(sub.url, "not_a_credential" if read is not None else "not_json"), None
    # the link's own bytes are served from memory (the page shows exactly what was verified);
    # they were fetched here, not supplied by the user, so they are not flagged as supplied
    report = verify(sub.source, fetcher, verifier, recipient=sub.recipient, documents=documents,
                    strict=sub.strict, flag_supplied=False)
    return report, readable(raw) if display else None


def verify(source: Any, fetcher: Fetcher, verifier: VerifierState, **options: Any) -> VerificationReport:
    """``verify_credential`` with every fetch through ``fetcher`` (this verification's budget)."""
    return verify_credential(source, fetcher=fetcher, memo=verifier.memo, **options)


def not_a_credential(url: str, code: str) -> VerificationReport:
    """The report for a link whose document is not a credential: the verdict and the reason only.

    Nothing of the fetched document is shown back, on the page or in the API answer, and nothing
    it names is fetched: the link could point at any page this verifier can reach (an issuer's own
    console, a DID document), and the verifier must not become a way to read it.
    """
    return VerificationReport([CheckResult("parse", FAILED, explain(code, ""), code, {"url": url})])


def unreachable(url: str, exc: FetchError) -> VerificationReport:
    """The report ``verify_credential(url)`` gives for a link that cannot be fetched."""
    return VerificationReport([CheckResult("parse", FAILED, explain("unreachable", ""), "unreachable",
                                           {"error": f"could not retrieve {url}: {exc}", "url": url,
                                            "fetch_error": exc.code,
                                            **fetch_facts(exc.details)})])


# ---------------------------------------------------------------- the blueprint

def verifier_blueprint(config: Mapping[str, Any] | None = None, *, url_prefix: str | None = None,
                       name: str = "verifier") -> Blueprint:
    """The verifier's pages and API as a blueprint, to register on one app.

    ``config``: settings over :data:`~verifier.web.state.DEFAULTS`. With ``url_prefix="/verify"``
    the form and results are at ``/verify`` (``/verify?url=...``), the API at
    ``/verify/api/verify``. Registering it gives the app one response cache and a per-client rate
    limit (:class:`~verifier.web.ratelimit.ClientLimit`, ``RATE_LIMIT``).
    """
    settings = merged_settings(config)
    bp = Blueprint(name, __name__, url_prefix=url_prefix or None, template_folder="templates",
                   static_folder="static", static_url_path="/static")
    client_limit = ClientLimit(name, settings["RATE_LIMIT"], settings["RATELIMIT_STORAGE_URI"])
    limited = client_limit.limited
    bp.add_app_template_filter(render_markdown, "markdown")     # descriptions and criteria, sanitised

    @bp.record_once
    def _setup(setup_state: BlueprintSetupState) -> None:
        app = setup_state.app
        if not isinstance(app, Flask):  # pragma: no cover - a blueprint is registered on a Flask app
            raise TypeError("the verifier blueprint needs a Flask app")
        app.extensions.setdefault(STATE, {})[name] = make_state(config)

    @bp.before_request
    def _limits() -> None:
        request.max_content_length = MAX_INPUT_BYTES     # also when mounted in an app with a lower limit
        request.max_form_memory_size = MAX_JSON_BYTES     # pasted text
        request.max_form_parts = 16

    @limited
    def verify_page() -> Response:
        if request.method == "GET" and "url" not in request.args:
            return page("verifier_form.html")
        try:
            sub = from_form() if request.method == "POST" else submission(request.args.get("url"), None, None, None)
        except BadRequest as exc:
            return page("verifier_form.html", 400, error=exc.description, url=entered_url())
        report, document = run(sub)
        count_verification(report)
        return page("verifier_result.html", v=present(report, document, sub))

    @limited
    def api_verify() -> Response:
        mimetype = request.mimetype
        if mimetype == "application/json" or mimetype.endswith("+json"):
            sub = from_json()
        elif mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            sub = from_form()
        else:
            raise UnsupportedMediaType("Send application/json, multipart/form-data or "
                                       "application/x-www-form-urlencoded.")
        report, _ = run(sub, display=False)
        return report_json(count_verification(report))

    def openapi() -> Response:
        document = json.loads(files(__package__).joinpath("openapi.json").read_text(encoding="utf-8"))
        document["servers"] = [{"url": url_for(f"{name}.index")}]
        return Response(json.dumps(document, indent=2), mimetype="application/json")

    root = "" if url_prefix else "/"
    bp.add_url_rule(root, "index", verify_page, methods=["GET", "POST"])
    if not url_prefix:
        bp.add_url_rule("/verify", "verify", verify_page, methods=["GET", "POST"])
    bp.add_url_rule("/api/verify", "api_verify", api_verify, methods=["POST"])
    bp.add_url_rule("/openapi.json", "openapi", openapi)
    bp.after_request(client_limit.add_headers)
    bp.after_request(security_headers)
    _install_errors(bp, api_endpoints={f"{name}.api_verify", f"{name}.openapi"})
    return bp


def _install_errors(bp: Blueprint, api_endpoints: set[str]) -> None:
    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return error_response(exc, request.endpoint in api_endpoints)

    @bp.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        return internal_error(request.endpoint in api_endpoints)


# ---------------------------------------------------------------- the standalone app

def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The verifier as an app of its own: the form at ``/``, results at ``/verify``, the API at
    ``/api/verify``. Needs no issuer, database or secret key. ``config``: see
    :data:`~verifier.web.state.DEFAULTS` (``ALLOW_HOSTS`` and ``CA_FILE`` for tests and
    development; ``TESTING`` is passed on)."""
    app = Flask(__name__, static_folder=None)
    app.config.update(DEBUG=False, MAX_CONTENT_LENGTH=MAX_INPUT_BYTES, MAX_FORM_MEMORY_SIZE=MAX_JSON_BYTES)
    app.config.update({k: v for k, v in (config or {}).items() if k in ("TESTING", "RATELIMIT_ENABLED")})
    app.debug = False
    proxies = int(merged_settings(config)["TRUSTED_PROXIES"])
    if proxies:     # the client address (for rate limits) is then the one the proxies saw
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.register_blueprint(verifier_blueprint(config))
    app.add_url_rule("/metrics", "metrics", metrics_response)     # loopback only (verifier.web.metrics)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return error_response(exc, request.path.startswith("/api/") or request.path.endswith(".json"))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        return internal_error(request.path.startswith("/api/"))

    app.after_request(security_headers)
    return app
