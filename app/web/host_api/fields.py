"""Turn a request Struct into the plain ``{snake_name: value}`` dict the services take."""

from __future__ import annotations

from typing import Any

import msgspec


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
