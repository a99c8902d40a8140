"""Cal.com v2's wire envelope: ``{"status": "success", "data": …}`` and ``{"status": "error", …}``.

Status codes, one rule for the whole host API (the same as Cal.com's v2):

- 400: anything wrong with the request, whether its shape (a wrong type, a missing field, which
  msgspec and Litestar report) or its meaning (an unknown time zone, a time that is not a free
  slot, a slot someone else took first). Cal.com answers 400 for all of these, so we do too;
  422 is not used.
- 401: no API key, or one that is not valid.
- 404: the object does not exist or belongs to another host (the two look the same on purpose).
- 409: the request is fine but the object's state forbids it: cancelling a cancelled booking,
  a second event type with the same slug, deleting the default schedule.

Response bodies are msgspec Structs so that the OpenAPI document shows their real shapes.
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

T = TypeVar("T")

# Ids fit a 32-bit column (PostgreSQL's INTEGER); larger numbers are refused as bad input (400).
MAX_ID = 2_147_483_647
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
PathId = Annotated[int, Parameter(ge=1, le=MAX_ID)]

MESSAGES = {
    400: "The request is malformed or not acceptable; the message says why.",
    401: "Missing or invalid API key.",
    404: "No such object for this API key's host.",
    409: "The object's current state does not allow this change.",
    429: "Too many booking requests from this client; wait a minute.",
}


class Envelope(msgspec.Struct, Generic[T], kw_only=True):
    """Every successful answer: the payload under ``data``."""

    status: Literal["success"] = "success"
    data: T


class ErrorBody(msgspec.Struct, kw_only=True):
    """Every error answer (shaped by app/web/errors.py for paths under /v2)."""

    status: Literal["error"] = "error"
    message: str


def ok(data: T) -> Envelope[T]:
    return Envelope(data=data)


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error codes a handler can answer, always with 400 and 401."""
    wanted = sorted({400, 401, *codes})
    return {
        code: ResponseSpec(data_container=ErrorBody, description=MESSAGES[code]) for code in wanted
    }
