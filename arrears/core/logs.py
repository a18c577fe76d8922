"""One log line per event, as JSON, each carrying the request it belongs to.

The request id comes from the proxy's `X-Request-ID` when it is a plain token (nginx's $request_id),
otherwise a new one; it is returned in the response's `X-Request-ID`, so an owner's or a collector's
complaint about one page can be found in the log. Outside a request the id is "-".
"""

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (as `request_id`)."""

    def filter(self, record):
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """time (UTC, ISO), level, logger, request_id, message, and the traceback when there is one."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", REQUEST_ID.get()),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RequestIdMiddleware:
    """Give each request its id for the log lines it causes, and hand it back in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _TOKEN.match(offered) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            REQUEST_ID.reset(token)
        response["X-Request-ID"] = request_id
        return response
