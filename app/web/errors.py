"""One exception handler for the whole app, answering in the shape each part of it promises.

Public API (``/api/…``): ``{"error": "…"}`` as seed 001 shows. Host API (``/v2/…``):
``{"status": "error", "message": "…"}`` as seed 004 shows, plus Cal.com's ``timestamp``,
``path`` and ``error: {code, message, details}`` (app/web/host_api/envelope.py). Pages: a small
HTML page.
Unexpected errors are logged and answered 500 without internals.

A database that is unavailable for now (``app.db.faults``: unreachable, disk full, a write lock
held past its timeout) is no bug: it is answered 503 with ``Retry-After``, in each part's shape,
a short page for the widget and a fragment for its htmx requests, with one log line, no traceback.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from app.bookings.errors import BookingError
from app.db.faults import is_out_of_range, is_unavailable
from app.i18n import _, current_locale, ngettext, set_locale, text_direction
from app.web.context import request_locale
from app.web.host_api.envelope import error_body, v2_status

log = logging.getLogger("app.web")
RETRY_AFTER_SECONDS = 5

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
    if is_unavailable(exc):
        return HTTP_503_SERVICE_UNAVAILABLE, _(
            "The service is briefly unavailable. Please try again in a few seconds."
        )
    if isinstance(exc, BookingError):
        return exc.status_code, exc.message
    if is_out_of_range(exc):
        return 400, _("A number in the request is too large.")
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
    headers = dict(getattr(exc, "headers", None) or {})
    # An error is about this request, now: a cache must not answer the next one with it.
    headers.setdefault("Cache-Control", "no-store")
    if code == HTTP_503_SERVICE_UNAVAILABLE:
        log.warning(
            "database unavailable on %s %s: %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
            str(exc).splitlines()[0][:300] if str(exc) else "",
        )
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    elif code >= 500:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    path = request.url.path
    if path == "/v2" or path.startswith("/v2/"):
        code = v2_status(code)
        query = request.url.query
        where = f"{path}?{query}" if query else path
        answer = error_body(code, message, where, _details(exc))
        return Response(answer, status_code=code, headers=headers)
    if path.startswith("/api/"):
        return Response({"error": message}, status_code=code, headers=headers)
    if request.scope.get("route_handler") is None:
        set_locale(request_locale(request.scope))  # no route matched: no middleware ran
    message = page_message(code, exc, headers) or message
    if request.headers.get("hx-request") == "true":
        # The widget shows it where the guest was looking (and keeps the form as typed); the
        # marker tells widget.js this text is ours to show, not a proxy's error page.
        headers["X-Widget-Error"] = "1"
        body = _error_fragment(message)
    else:
        body = _error_page(code, message, retry=code == HTTP_503_SERVICE_UNAVAILABLE)
    return Response(body, status_code=code, media_type=MediaType.HTML, headers=headers)


def page_message(code: int, exc: Exception, headers: dict[str, str]) -> str:
    """What a page (not an API) says for an error, in the reader's language ("" keeps the
    message as it is: the service's own, or the unavailable database's)."""
    if code == 429:
        seconds = _retry_after(headers)
        if seconds:
            return ngettext(
                "Too many attempts from your connection. Please try again in %(num)d second.",
                "Too many attempts from your connection. Please try again in %(num)d seconds.",
                seconds,
            )
        return _("Too many attempts from your connection. Please wait a minute and try again.")
    if isinstance(exc, BookingError) or code == HTTP_503_SERVICE_UNAVAILABLE:
        return ""
    return {
        400: _("This request could not be understood. Please go back and try again."),
        403: _("This form can only be sent from its own page."),
        404: _("We could not find this page. Please check the link."),
        405: _("This page cannot be used that way."),
        413: _("What you sent is too large."),
        500: _("Something went wrong on our side. Please try again."),
    }.get(code, "")


def _retry_after(headers: dict[str, str]) -> int:
    for key in ("Retry-After", "RateLimit-Reset"):
        value = next((v for k, v in headers.items() if k.lower() == key.lower()), "")
        if str(value).strip().isdigit():
            return max(int(value), 1)
    return 0


def _error_page(code: int, message: str, retry: bool = False) -> str:
    locale = current_locale()
    again = f"<p><a href=''>{escape(_('Try again'))}</a></p>" if retry else ""
    return (
        f"<!doctype html><html lang={escape(locale)} dir={text_direction(locale)}>"
        "<meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<meta name=color-scheme content='light dark'>"
        f"<title>{code}</title><link rel=stylesheet href='/static/widget.css'>"
        f"<main class='page error-page'><h1>{code}</h1><p>{escape(message)}</p>{again}</main></html>"
    )


def _error_fragment(message: str) -> str:
    """The message for an htmx request: widget.js shows it with a retry where the guest was
    looking, and keeps the page (and what was typed) as it was."""
    return f"<div class='alert' role='alert'><p>{escape(message)}</p></div>"
