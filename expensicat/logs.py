"""Logging set-up: one line per event on standard error, plain text or JSON."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from expensicat.config import LogSettings

TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(log: LogSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(log.format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(log.level)


def _formatter(kind: str) -> logging.Formatter:
    if kind == "json":
        # Fields passed as `extra` (the access log's) become keys of the object.
        return JsonFormatter(
            TEXT,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    return logging.Formatter(TEXT)
