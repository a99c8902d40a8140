"""Log lines as text (uvicorn's look) or as one JSON object per line (``LOG_FORMAT=json``).

``booking serve`` hands ``log_config(...)`` to uvicorn, which applies it in every server process
before the app loads; ``booking worker`` applies it itself. ``create_app`` turns Litestar's own
logging set-up off, so this is the only one, down to the root logger (SQLAlchemy's and asyncio's
warnings come out in the same format). Filters that the app attaches to loggers (such as one
scrubbing link tokens from access lines) run before any formatter here, so both formats print what
they left.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# The app's loggers, each given the handler explicitly (``app.notify`` included: the outbox
# worker adds its own handler only when it finds none).
APP_LOGGERS = ("app", "app.notify")


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message"}``, plus the request's parts on access lines and
    ``exception`` when there is a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args  # uvicorn's access line
            entry.update(client=client, method=method, path=path, status=status)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(log_format: str = "text") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn's loggers and the app's, in either format."""
    if log_format == "json":
        formatters: dict[str, Any] = {
            name: {"()": "app.logs.JsonFormatter"} for name in ("default", "access", "app")
        }
    else:
        formatters = {
            "default": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(message)s",
            },
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
            },
            "app": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(name)s: %(message)s",
            },
        }
    stderr = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "handlers": {
            "default": {**stderr, "formatter": "default"},
            "access": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "access",
            },
            "app": {**stderr, "formatter": "app"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            **{
                name: {"handlers": ["app"], "level": "INFO", "propagate": False}
                for name in APP_LOGGERS
            },
        },
        # Everything else (SQLAlchemy, asyncio, …): warnings and errors, in the same format.
        "root": {"handlers": ["app"], "level": "WARNING"},
    }
