"""JSON log lines that carry the request they belong to."""

import io
import json
import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from arrears.core.logs import REQUEST_ID, JsonFormatter, RequestIdFilter, RequestIdMiddleware


@pytest.fixture
def lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("arrears.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def _view(logger):
    def view(request):
        logger.info("收款 %s", "¥1,200.00")
        return HttpResponse("ok")
    return view


def test_a_line_logged_in_a_request_carries_the_proxys_request_id(lines):
    logger, read = lines
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="0f3c9a2b7d1e4f60")
    response = RequestIdMiddleware(_view(logger))(request)
    assert response["X-Request-ID"] == "0f3c9a2b7d1e4f60"
    [line] = read()
    assert (line["level"], line["logger"], line["request_id"], line["message"]) == (
        "INFO", "arrears.test.logs", "0f3c9a2b7d1e4f60", "收款 ¥1,200.00")
    assert line["time"].endswith("+00:00")
    assert REQUEST_ID.get() == "-"  # the id does not outlive its request


@pytest.mark.parametrize("offered", ["", "short", "has space in it", "x" * 65, "id\r\nSet-Cookie: a=b"])
def test_an_id_that_is_not_a_plain_token_is_replaced(lines, offered):
    logger, read = lines
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID=offered)
    response = RequestIdMiddleware(_view(logger))(request)
    made = response["X-Request-ID"]
    assert made != offered and len(made) == 32 and read()[0]["request_id"] == made


def test_an_error_is_one_line_with_its_traceback(lines):
    logger, read = lines
    try:
        raise ValueError("坏数据")
    except ValueError:
        logger.exception("导入失败")
    [line] = read()
    assert line["request_id"] == "-" and line["message"] == "导入失败" and "ValueError: 坏数据" in line["exception"]


def test_the_site_answers_with_a_request_id(client, db):
    assert len(client.get("/login/")["X-Request-ID"]) == 32
