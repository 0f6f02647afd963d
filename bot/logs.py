"""Logging that never lets a secret (the bot token) reach a log line.

httpx logs every request URL at INFO, and Bot API URLs contain the token; PTB's errors can
quote URLs too. ``protect(secret)`` installs a log record factory that rewrites every
record mentioning a protected secret as it is created, traceback included, so no handler
(ours, pytest's, a library's) ever sees it. ``setup_logging`` configures stderr output.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from bot.config import mask_token

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_QUIET = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "apscheduler": logging.WARNING}
_SECRETS: list[str] = []
_plain_factory = logging.getLogRecordFactory()


def redact(text: str) -> str:
    """Replace every protected secret in ``text`` by its masked form."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, mask_token(secret))
    return text


def protect(secret: str) -> None:
    """From now on, mask ``secret`` in every log record of this process."""
    if not secret or secret in _SECRETS:
        return
    _SECRETS.append(secret)
    logging.setLogRecordFactory(_redacting_factory)


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _plain_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed record: leave it to the handler to report
        return record
    redacted = redact(message)
    if redacted != message:
        record.msg, record.args = redacted, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # Formatted once, here: logging.Formatter reuses exc_text instead of formatting again.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


def setup_logging(level: int | str = logging.INFO) -> None:
    """Log to stderr, replacing earlier handlers; keep chatty libraries at WARNING."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(quiet)
