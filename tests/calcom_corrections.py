"""Where Cal.com's OpenAPI document contradicts Cal.com's own source, corrected for the contract
check (tests/calcom_contract.py), each with the reason.

The document is generated from the NestJS/class-validator DTOs under ``packages/platform/types``
and ``apps/api/v2`` of Cal.com's repository; where the generator lost what a DTO says (a union
written as an array, a literal written as ``object``, a constant's name written as a pattern),
the DTO is what Cal.com's API answers, and what its clients read.
"""

from __future__ import annotations

import re
from typing import Any

HH_MM = r"^([01]\d|2[0-3]):([0-5]\d)$"  # Cal.com's TIME_FORMAT_HH_MM (schedules constants)
ONLY = re.compile(r"only allowed value for type is `(\w+)`", re.IGNORECASE)
WINDOWS = (
    ("BusinessDaysWindow_2024_06_14", "businessDays"),
    ("CalendarDaysWindow_2024_06_14", "calendarDays"),
    ("RangeWindow_2024_06_14", "range"),
)
ATTENDEE_LOCATIONS = (
    "InputAttendeeAddressLocation_2024_06_14",
    "InputAttendeePhoneLocation_2024_06_14",
    "InputAttendeeDefinedLocation_2024_06_14",
)
USER = {
    "type": "object",
    "required": ["id", "name", "username", "avatarUrl", "weekStart", "brandColor"],
    "properties": {
        "id": {"type": "number"},
        "name": {"type": "string", "nullable": True},
        "username": {"type": "string", "nullable": True},
        "avatarUrl": {"type": "string", "nullable": True},
        "weekStart": {"type": "string"},
        "brandColor": {"type": "string", "nullable": True},
        "darkBrandColor": {"type": "string", "nullable": True},
        "metadata": {"type": "object"},
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def correct(document: dict[str, Any]) -> list[str]:
    """Apply every correction to ``document`` (in place); returns the reasons, one per fix."""
    schemas = document["components"]["schemas"]
    event_type = schemas["EventTypeOutput_2024_06_14"]["properties"]
    reasons = []

    # event-type.output.ts: `users!: User_2024_06_14[]`; the document says strings.
    schemas["_User_2024_06_14"] = USER
    event_type["users"] = {"type": "array", "items": _ref("_User_2024_06_14")}
    reasons.append("EventTypeOutput.users holds User_2024_06_14 objects, not strings")

    # `number | null`, `boolean | null` and `string | null` without an explicit type were
    # written as `object`.
    event_type["slotInterval"] = {"type": "number", "nullable": True}
    event_type["seatsPerTimeSlot"] = {"type": "number", "nullable": True}
    event_type["forwardParamsSuccessRedirect"] = {"type": "boolean", "nullable": True}
    event_type["successRedirectUrl"] = {"type": "string", "nullable": True}
    reasons.append(
        "EventTypeOutput: slotInterval and seatsPerTimeSlot are numbers, "
        "forwardParamsSuccessRedirect a boolean, successRedirectUrl a string (each nullable)"
    )

    # bookingWindow is one BookingWindow_2024_06_14 (a union of window objects, or disabled);
    # `type: "array"` in its decorator made an array of windows. Each window has its own type.
    event_type["bookingWindow"] = {
        "oneOf": [_ref(name) for name, _ in WINDOWS] + [_ref("Disabled_2024_06_14")]
    }
    for name, kind in WINDOWS:
        schemas[name]["properties"]["type"]["enum"] = [kind]
    reasons.append("EventTypeOutput.bookingWindow is one window object, each window one type")

    # Booking fields: every variant lists every type, so a field matched several variants of
    # the oneOf. The DTOs say "only allowed value for type is `x`", isDefault is the literal
    # true (default fields) or false (custom ones), and a default field has its own slug.
    for item in event_type["bookingFields"]["items"]["oneOf"]:
        props = schemas[item["$ref"].rsplit("/", 1)[1]]["properties"]
        kind = props["type"].get("default") or ONLY.search(props["type"]["description"])[1]
        props["type"]["enum"] = [kind]
        is_default = props["isDefault"]["default"]
        props["isDefault"] = {"type": "boolean", "enum": [is_default]}
        if is_default and props.get("slug", {}).get("default"):
            props["slug"]["enum"] = [props["slug"]["default"]]
        if props.get("required", {}).get("type") == "object":
            props["required"] = {"type": "boolean"}
    reasons.append(
        "booking field outputs: one type each, isDefault a boolean literal, default fields "
        "their own slug, EmailDefaultFieldOutput.required a boolean"
    )

    # Locations: likewise one type each; locations.output.ts's union also has the attendee
    # locations (attendeeAddress, attendeePhone, attendeeDefined), missing from the oneOf.
    locations = event_type["locations"]["items"]["oneOf"]
    locations += [_ref(name) for name in ATTENDEE_LOCATIONS]
    for item in locations:
        typ = schemas[item["$ref"].rsplit("/", 1)[1]]["properties"]["type"]
        typ["enum"] = [typ.get("example") or ONLY.search(typ["description"])[1]]
    reasons.append("location outputs: one type each, and the attendee locations")

    # Schedules: `days` has the item enum on the array too, and the HH:MM pattern is the name
    # of the constant (TIME_FORMAT_HH_MM) instead of its value.
    for name in ("ScheduleAvailabilityInput_2024_06_11", "ScheduleOverrideInput_2024_06_11"):
        props = schemas[name]["properties"]
        props.get("days", {}).pop("enum", None)
        for key in ("startTime", "endTime"):
            props[key]["pattern"] = HH_MM
    reasons.append("schedules: day names enumerated per item; times match HH:MM")

    # Webhooks: triggers are WebhookTriggerEvents strings, not objects.
    for name in ("UserWebhookOutputDto", "EventTypeWebhookOutputDto"):
        schemas[name]["properties"]["triggers"]["items"] = {"type": "string"}
    reasons.append("webhook outputs: triggers are strings")

    # Calendars: DestinationCalendar's `id!: number | string` was written as an object, and
    # the destination calendar is left out while none is chosen (the service answers undefined).
    schemas["DestinationCalendar"]["properties"]["id"] = {"type": ["number", "string"]}
    data = schemas["ConnectedCalendarsData"]
    data["required"] = [name for name in data["required"] if name != "destinationCalendar"]
    reasons.append("connected calendars: destinationCalendar.id a number, absent until chosen")

    # `status` is SUCCESS_STATUS ("success") as in every other output, not an object.
    for name in ("CalendarLinksOutput_2024_08_13", "BookingReferencesOutput_2024_08_13"):
        schemas[name]["properties"]["status"] = {"type": "string", "enum": ["success", "error"]}
    reasons.append("calendar-links and references: status is the string 'success'")

    # GET /v2/slots: the 200 schema describes `data` alone (and its time format has string
    # items, while its example, and the API, give {start} objects). The answer is the usual
    # {status, data} envelope; data maps dates to {start} or {start, end} slots.
    start = {"start": {"type": "string"}}
    timed = {"type": "object", "required": ["start"], "properties": start}
    timed["not"] = {"required": ["end"]}
    ranged = {
        "type": "object",
        "required": ["start", "end"],
        "properties": {**start, "end": {"type": "string"}},
    }
    days = [
        {"type": "object", "additionalProperties": {"type": "array", "items": slot}}
        for slot in (timed, ranged)
    ]
    content = document["paths"]["/v2/slots"]["get"]["responses"]["200"]["content"]
    content["application/json"]["schema"] = {
        "type": "object",
        "required": ["status", "data"],
        "properties": {"status": {"type": "string", "enum": ["success"]}, "data": {"oneOf": days}},
    }
    reasons.append("GET /v2/slots 200: the {status, data} envelope around the slots by date")
    return reasons
