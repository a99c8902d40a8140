"""One exception handler for the whole app, answering in the shape each part of it promises.

Public API (``/api/…``): ``{"error": "…"}`` as seed 001 shows. Host API (``/v2/…``):
``{"status": "error", "message": "…"}`` as seed 004 shows, plus Cal.com's ``timestamp``,
``path`` and ``error: {code, message, details}`` (app/web/host_api/envelope.py). Pages: a small
HTML page.
Unexpected errors are logged and answered 500 without internals.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from app.bookings.errors import BookingError
from app.web.host_api.envelope import error_body, v2_status

log = logging.getLogger("app.web")

PLAIN_MESSAGES = {
    404: "Not found.",
    405: "Method not allowed.",
    413: "The request body is too large.",
    429: "Too many requests. Please wait a minute and try again.",
}


def _validation_message(exc: ValidationException) -> str:
    extra = exc.extra if isinstance(exc.extra, list) else []
    parts = []
    for item in extra:
        if isinstance(item, dict):
            key, message = item.get("key"), item.get("message", "")
            parts.append(f"{key}: {message}" if key else str(message))
    if parts:
        return "Invalid request: " + "; ".join(parts)
    detail = exc.detail or "Invalid request."
    if "JSON" in detail or "decode" in detail.lower():
        return "The request body is not valid JSON."
    return detail


def status_and_message(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, BookingError):
        return exc.status_code, exc.message
    if isinstance(exc, ValidationException):
        return 400, _validation_message(exc)
    if isinstance(exc, HTTPException):
        code = exc.status_code
        detail = (
            exc.detail if exc.detail and code not in PLAIN_MESSAGES else PLAIN_MESSAGES.get(code)
        )
        return code, str(detail or "Request failed.")
    return HTTP_500_INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again."


def _details(exc: Exception) -> Any:
    """Which fields were wrong, when we know (``error.details`` of the host API's errors)."""
    if isinstance(exc, BookingError) and exc.field:
        return {"field": exc.field}
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        return {"fields": [item for item in exc.extra if isinstance(item, dict)]}
    return None


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    code, message = status_and_message(exc)
    if code >= 500:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    headers = getattr(exc, "headers", None) or {}
    path = request.url.path
    if path == "/v2" or path.startswith("/v2/"):
        code = v2_status(code)
        query = request.url.query
        where = f"{path}?{query}" if query else path
        body = error_body(code, message, where, _details(exc))
        return Response(body, status_code=code, headers=headers)
    if path.startswith("/api/"):
        return Response({"error": message}, status_code=code, headers=headers)
    return Response(
        _error_page(code, message),
        status_code=code,
        media_type=MediaType.HTML,
        headers=headers,
    )


def _error_page(code: int, message: str) -> str:
    from html import escape

    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{code}</title><link rel=stylesheet href='/static/widget.css'>"
        f"<main class='page error-page'><h1>{code}</h1><p>{escape(message)}</p></main></html>"
    )
