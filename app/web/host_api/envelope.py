"""Cal.com v2's wire envelope: ``{"status": "success", "data": …}`` and its error answers.

Status codes, one rule for the whole host API (Cal.com's v2, as its source answers):

- 400: anything wrong with the request, whether its shape (a wrong type, a missing field, which
  msgspec and Litestar report), its meaning (an unknown time zone, a time that is not a free
  slot, a slot someone else took first) or the object's state (cancelling a cancelled booking,
  confirming a confirmed one, a second event type with the same slug, deleting the default
  schedule): Cal.com answers 400 (BadRequestException) for all of these; 409 and 422 are not
  used.
- 401: no API key, or one that is not valid.
- 404: the object does not exist or belongs to another host (the two look the same on purpose).
- 429: too many requests from this client; 503: a database or other service we need is down.

Errors carry both shapes a client may read: seed 004's ``{"status": "error", "message": …}`` and
Cal.com's ``timestamp``, ``path`` and ``error: {code, message, details}`` (``code`` is the name
of the NestJS exception Cal.com would raise, such as ``BadRequestException``; ``details`` names
the offending fields when we know them).

Response bodies are msgspec Structs so that the OpenAPI document shows their real shapes.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from app import clock
from app.db.models import MAX_ID

T = TypeVar("T")

# Ids fit a 32-bit column (app.db.models.MAX_ID); larger numbers are refused as bad input (400).
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
PathId = Annotated[int, Parameter(ge=1, le=MAX_ID)]

MESSAGES = {
    400: "The request is malformed, not acceptable, or the object's state forbids it; the "
    "message says why.",
    401: "Missing or invalid API key.",
    403: "This API key's host may not do this (another host's event type that requires "
    "authentication).",
    404: "No such object for this API key's host.",
    429: "Too many booking requests from this client; wait a minute.",
    503: "A service we need (the database) is unavailable; try again shortly.",
}
# The NestJS exception Cal.com raises for each status: its error.code.
ERROR_CODES = {
    400: "BadRequestException",
    401: "UnauthorizedException",
    403: "ForbiddenException",
    404: "NotFoundException",
    405: "MethodNotAllowedException",
    409: "ConflictException",
    413: "PayloadTooLargeException",
    415: "UnsupportedMediaTypeException",
    422: "UnprocessableEntityException",
    429: "ThrottlerException",
    500: "InternalServerErrorException",
    503: "ServiceUnavailableException",
}


class Envelope(msgspec.Struct, Generic[T], kw_only=True):
    """Every successful answer: the payload under ``data``."""

    status: Literal["success"] = "success"
    data: T


class ErrorDetail(msgspec.Struct, kw_only=True, omit_defaults=True):
    code: str
    message: str
    details: Any = None


class ErrorBody(msgspec.Struct, kw_only=True):
    """Every error answer (``error_body``, called by app/web/errors.py for paths under /v2)."""

    status: Literal["error"] = "error"
    message: str
    timestamp: str
    path: str
    error: ErrorDetail


def v2_status(code: int) -> int:
    """Cal.com answers a state conflict (already cancelled, slug taken) 400, not 409."""
    return 400 if code == 409 else code


def error_body(code: int, message: str, path: str, details: Any = None) -> ErrorBody:
    """The error answer for ``code`` (already mapped by ``v2_status``) at ``path``."""
    now = clock.utcnow().astimezone(UTC).isoformat(timespec="milliseconds")
    return ErrorBody(
        message=message,
        timestamp=now.replace("+00:00", "Z"),
        path=path,
        error=ErrorDetail(
            code=ERROR_CODES.get(code, "HttpException"), message=message, details=details
        ),
    )


def ok(data: T) -> Envelope[T]:
    return Envelope(data=data)


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error codes a handler can answer, always with 400, 401 and 503."""
    wanted = sorted({400, 401, 503, *codes} - {409})
    return {
        code: ResponseSpec(data_container=ErrorBody, description=MESSAGES[code]) for code in wanted
    }
