"""Structured logs: one JSON object per line on standard error, with secrets redacted.

Redaction is a last line of defence; the first is never passing a credential to a logger.
"""

from __future__ import annotations

import logging
import re
import sys
import time

import orjson

_SECRET = re.compile(
    r"(?i)(authorization|x-api-key|cookie|password|secret|token|signature)"
    r"([\"']?\s*[:=]\s*[\"']?)([^\"',;\s]+)"
)


def redact(text: str) -> str:
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry).decode()


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
