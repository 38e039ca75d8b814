"""The worker's log format: Faust's lines by default, one JSON object per line with NEWSWIRE_LOG_JSON=1."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

# Faust's -l takes crit/error/warn/info/debug; logging's dictConfig wants its own names.
_LEVELS = {"crit": "CRITICAL", "warn": "WARNING"}
# Attributes every LogRecord has; anything else came through `extra=` and is worth keeping.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON: time, level, logger, message, then any extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON object on one line (newlines in messages are escaped)."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def json_logging_config(level: str = "info") -> dict[str, Any]:
    """Return a `logging.config.dictConfig` that writes every record as JSON lines to stdout."""
    name = _LEVELS.get(level.lower(), level.upper())
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
        },
        "root": {"level": name, "handlers": ["stdout"]},
    }
