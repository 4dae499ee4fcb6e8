"""``microcred verifier serve`` writes gunicorn's access log line, made for less CPU (:class:`AccessLogger`)."""
from __future__ import annotations

import base64
import datetime
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from verifier.web.cli import AccessLogger, gunicorn_options


def _line(logger_class: type[Logger], tmp_path, name: str, environ: dict, *, fmt: str | None = None,
          status: object = "200 OK", sent: int | None = 1234) -> str:
    cfg = Config()
    cfg.set("accesslog", str(tmp_path / name))
    if fmt is not None:
        cfg.set("access_log_format", fmt)
    logger = logger_class(cfg)
    logger.now = lambda: "[06/Dec/2026:09:00:00 +0000]"  # type: ignore[method-assign]
    response = SimpleNamespace(status=status, sent=sent, headers=[("Content-Type", "application/json")])
    request = SimpleNamespace(headers=[("HOST", "verifier.example")])
    logger.access(response, request, environ, datetime.timedelta(milliseconds=3))
    for handler in logger.access_log.handlers:
        handler.flush()
    return (tmp_path / name).read_text(encoding="utf-8")


ENVIRONS = {
    "plain": {"REMOTE_ADDR": "192.0.2.1", "REQUEST_METHOD": "POST", "RAW_URI": "/api/verify",
              "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_USER_AGENT": "curl/8"},
    "quotes and a referer": {"REMOTE_ADDR": "192.0.2.1", "REQUEST_METHOD": "GET", "RAW_URI": '/verify?url="x"',
                             "SERVER_PROTOCOL": "HTTP/1.0", "HTTP_USER_AGENT": 'a "quoted" agent',
                             "HTTP_REFERER": 'https://example.com/"'},
    "basic auth": {"REMOTE_ADDR": "192.0.2.1", "REQUEST_METHOD": "POST", "RAW_URI": "/",
                   "SERVER_PROTOCOL": "HTTP/1.1",
                   "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"alex:secret").decode()},
    "nothing optional": {"REQUEST_METHOD": "POST", "RAW_URI": "/", "SERVER_PROTOCOL": "HTTP/1.1"},
}


@pytest.mark.parametrize("name", sorted(ENVIRONS))
def test_the_line_is_gunicorns(tmp_path, name):
    environ = ENVIRONS[name]
    assert _line(AccessLogger, tmp_path, "ours", environ) == _line(Logger, tmp_path, "theirs", environ)
    assert (_line(AccessLogger, tmp_path, "ours0", environ, status=404, sent=None)
            == _line(Logger, tmp_path, "theirs0", environ, status=404, sent=None))


def test_another_format_goes_gunicorns_way(tmp_path):
    fmt = '%(h)s "%({content-type}o)s" %(D)s'
    environ = ENVIRONS["plain"]
    assert _line(AccessLogger, tmp_path, "ours", environ, fmt=fmt) == _line(Logger, tmp_path, "theirs", environ,
                                                                             fmt=fmt)


def test_the_verifier_server_uses_it():
    assert gunicorn_options("127.0.0.1", 5001, 2, 32, True)["logger_class"] is AccessLogger
