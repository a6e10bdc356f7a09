"""Log lines: JSON, with the correlation id, and no addresses above DEBUG."""

import json
import logging

from inovda_shared.logs import JsonFormatter, correlation_id


def formatted(level: int, message: str) -> dict[str, object]:
    record = logging.LogRecord("inovda.test", level, __file__, 1, message, None, None)
    return dict(json.loads(JsonFormatter("submission").format(record)))


def test_lines_carry_the_correlation_id_of_the_message_in_hand() -> None:
    token = correlation_id.set("corr-123")
    try:
        line = formatted(logging.INFO, "handled")
    finally:
        correlation_id.reset(token)
    assert line["correlation_id"] == "corr-123"
    assert line["service"] == "submission"


def test_addresses_and_links_are_masked_above_debug() -> None:
    text = "send to dinkes@kukarkab.example failed; evidence https://inovasi.example/a.pdf, amqp://u:p@host/"
    line = formatted(logging.WARNING, text)
    assert line["message"] == "send to <email> failed; evidence <url> <url>"
    assert formatted(logging.DEBUG, text)["message"] == text
