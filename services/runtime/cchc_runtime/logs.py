"""Structured logs: JSON lines for machines, readable text on a terminal.

The JSON lines come from python-json-logger (its orjson formatter). Each line has ``ts`` (UTC,
milliseconds), ``level`` (lower case), ``service``, ``logger``, ``msg``, ``exc`` (a formatted
traceback, when there is one) and whatever a log call passes through ``extra=`` (``topic``,
``partition``, ``offset``, ``event_id``, ``count``, ``reason``, ``attempt``…); fields whose value
is ``None`` are left out.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter

# uvicorn repeats its message with terminal colour codes in `color_message`: not for a JSON line.
_NOT_FIELDS = (*RESERVED_ATTRS, "color_message", "taskName")


class JsonFormatter(OrjsonFormatter):
    """One JSON object per line with the service name and the call's context fields."""

    def __init__(self, service: str) -> None:
        super().__init__(
            ["name", "message"],
            rename_fields={"name": "logger", "message": "msg", "exc_info": "exc"},
            defaults={"service": service},
            reserved_attrs=_NOT_FIELDS,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        """Put the time and the level first, in the shape the line has always had."""
        log_data["ts"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname.lower()
        super().add_fields(log_data, record, message_dict)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        """Drop context fields a call passed as ``None``."""
        return {k: v for k, v in log_data.items() if v is not None}


def configure(service: str, level: str = "INFO", fmt: str = "auto") -> None:
    """Set up root logging once: JSON unless `fmt` is text or (auto) stderr is a terminal."""
    handler = logging.StreamHandler(sys.stderr)
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    if use_json:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {service:<9} %(levelname)-7s %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka is chatty about group rebalances at INFO; keep its warnings.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
