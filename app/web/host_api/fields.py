"""Turn a request Struct into the plain ``{snake_name: value}`` dict the services take."""

from __future__ import annotations

from typing import Any

import msgspec

from app.bookings.errors import InvalidInput


def plain(value: Any) -> Any:
    """Structs (nested too) as dicts keyed by their Python names; UNSET fields left out."""
    if isinstance(value, msgspec.Struct):
        return changes(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def changes(data: msgspec.Struct) -> dict[str, Any]:
    """The fields the client sent (for PATCH bodies, whose absent fields are UNSET)."""
    return {
        name: plain(getattr(data, name))
        for name in data.__struct_fields__
        if getattr(data, name) is not msgspec.UNSET
    }


def camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def is_off(value: Any) -> bool:
    """Cal.com's ways of saying a setting is not used: absent, false, empty, disabled."""
    if value is None or value is False or value == 0 or value in ("", [], {}):
        return value is not True
    return isinstance(value, dict) and value.get("disabled") is True


def refuse_unhonoured(
    fields: dict[str, Any], names: tuple[str, ...], lengths: list[Any] | None = None
) -> None:
    """400 naming the first of ``names`` sent with a value other than "off" (a list holding
    only the event's own length counts as off for ``length_in_minutes_options``)."""
    for name in names:
        if name not in fields or is_off(fields[name]):
            continue
        if name == "length_in_minutes_options" and fields[name] == [x for x in lengths or [] if x]:
            continue
        raise InvalidInput(
            f"{camel(name)} is not supported here: leave it out, or send it switched off "
            '(false, "" or {"disabled": true}).',
            camel(name),
        )


def refuse_unknown_parameters(request: Any, known: tuple[str, ...]) -> None:
    """400 for a query parameter the operation does not have (a misspelt filter would
    otherwise be silently ignored and answer the unfiltered list)."""
    for name in request.query_params:
        base = name[:-2] if name.endswith("[]") else name
        if base not in known:
            raise InvalidInput(
                f"Unknown query parameter '{name[:40]}': this operation takes {', '.join(known)}.",
                name[:40],
            )
