"""No log record ever shows a protected secret: not in messages, arguments or tracebacks."""

from __future__ import annotations

import logging

import pytest

from bot.logs import protect

SECRET = "424242:Very-Secret-Token_value"


def test_messages_arguments_and_tracebacks_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    protect(SECRET)
    log = logging.getLogger("httpx")
    with caplog.at_level(logging.DEBUG):
        log.info('HTTP Request: POST http://127.0.0.1/bot%s/getUpdates "200 OK"', SECRET)
        log.warning(f"inline http://x/bot{SECRET}/sendMessage")
        try:
            raise ConnectionError(f"cannot reach http://x/bot{SECRET}/getMe")
        except ConnectionError:
            logging.getLogger("telegram.ext.Application").exception("network trouble")
    text = caplog.text
    assert SECRET not in text
    assert text.count("424242:") >= 3
    assert "network trouble" in text and "cannot reach" in text
