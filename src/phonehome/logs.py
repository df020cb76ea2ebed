"""JSON logs: one object per line on stderr, so a log shipper needs no parser of ours."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any, TextIO

# Attributes every LogRecord has; anything else was passed through ``extra=`` and goes into the line.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

# Never write these, whatever a caller passes in ``extra``.
_REDACTED = {"authorization", "proxy_authorization", "password", "cookie", "color_message"}


class JsonFormatter(logging.Formatter):
    _second = (-1, "")  # the last second formatted: a busy server logs many lines in each

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if self._second[0] != second:
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        line: dict[str, Any] = {
            "ts": f"{self._second[1]}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key.lower() not in _REDACTED:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))


class LoopFlushingHandler(logging.StreamHandler[TextIO]):
    """Flushes once per event-loop turn instead of once per line.

    Under a boot storm one loop turn answers dozens of requests; one write for all their access lines
    instead of one each. Outside a running loop (threads, the CLI) and for warnings and errors it
    flushes at once, like StreamHandler.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._flush_pending = False

    def flush(self) -> None:
        self._flush_pending = False
        super().flush()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + self.terminator)
        except Exception:
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING:
            self.flush()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if not self._flush_pending:
            self._flush_pending = True
            loop.call_soon(self.flush)


def setup_logging(level: str = "info") -> None:
    # Our lines carry no caller, thread or process fields: do not compute them for every record.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = LoopFlushingHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Our middlewares write the access lines; the servers' own would duplicate them.
    for name in ("aiohttp.access", "uvicorn.access"):
        logging.getLogger(name).disabled = True
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


access_log = logging.getLogger("phonehome.access")
