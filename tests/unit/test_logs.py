"""LOG_FORMAT=json: one JSON object per line, access lines split into their parts."""

from __future__ import annotations

import json
import logging
import logging.config
import sys

import pytest

from app.logs import JsonFormatter, log_config


def record(name: str, msg: str, args: tuple, exc_info=None) -> logging.LogRecord:  # type: ignore[no-untyped-def]
    return logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, exc_info)


def test_an_access_line_carries_the_request_parts():
    line = JsonFormatter().format(
        record(
            "uvicorn.access",
            '%s - "%s %s HTTP/%s" %d',
            ("203.0.113.7:0", "GET", "/demo/30min?tz=UTC", "1.1", 200),
        )
    )
    entry = json.loads(line)
    assert entry["level"] == "info"
    assert entry["logger"] == "uvicorn.access"
    assert entry["message"] == '203.0.113.7:0 - "GET /demo/30min?tz=UTC HTTP/1.1" 200'
    assert (entry["client"], entry["method"], entry["path"], entry["status"]) == (
        "203.0.113.7:0",
        "GET",
        "/demo/30min?tz=UTC",
        200,
    )
    assert entry["time"].endswith("+00:00")


def test_a_traceback_stays_inside_its_line():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        line = JsonFormatter().format(record("app.web", "failed: %s", ("x",), sys.exc_info()))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed: x"
    assert "RuntimeError: boom" in entry["exception"]


@pytest.fixture
def restore_loggers():
    """Put the loggers this test configures back as they were (caplog and the rest rely on it)."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "app", "app.notify")
    saved = {
        name: (list(lg.handlers), lg.level, lg.propagate, lg.disabled)
        for name in names
        for lg in [logging.getLogger(name)]
    }
    yield
    for name, (handlers, level, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_config_gives_uvicorn_and_the_app_one_format(log_format: str, restore_loggers):
    logging.config.dictConfig(log_config(log_format))
    for name in ("", "uvicorn", "uvicorn.access", "app", "app.notify", "sqlalchemy.pool"):
        (handler,) = logging.getLogger(name).handlers or logging.getLogger().handlers
        assert isinstance(handler.formatter, JsonFormatter) == (log_format == "json"), name
