"""Logging set-up that never lets a secret (the bot token) reach a log line.

httpx logs every request URL at INFO, and Bot API URLs contain the token; PTB's errors can
quote URLs too. The formatter redacts every configured secret from the final text,
tracebacks included, and httpx is kept at WARNING.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from bot.config import mask_token

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "apscheduler": logging.WARNING,
    "aiosqlite": logging.INFO,
}


class RedactingFormatter(logging.Formatter):
    """A formatter that replaces each secret in the formatted record by a masked form."""

    def __init__(self, secrets: Iterable[str], fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, mask_token(secret))
        return text


def setup_logging(level: int | str = logging.INFO, secrets: Iterable[str] = ()) -> None:
    """Log to stderr through the redacting formatter, replacing earlier handlers."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets))
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, logging.getLogger(name).getEffectiveLevel()))


def add_secret(secret: str) -> None:
    """Redact one more secret in every handler set up by setup_logging."""
    if not secret:
        return
    for handler in logging.getLogger().handlers:
        formatter = handler.formatter
        if isinstance(formatter, RedactingFormatter) and secret not in formatter.secrets:
            formatter.secrets.append(secret)
