"""Calendar connections: a host's CalDAV calendars and ICS feeds block slots, and bookings land in
the host's destination calendar.

- ``expand``: iCalendar data -> busy intervals (pure; recurrences, zones, caps).
- ``providers``: the small interface every kind of connection implements, and its errors;
  ``caldav`` and ``ics_feed`` implement it.
- ``sync``: reads remote calendars into local tables (``calendar_busy``), in the background and
  before a booking; the slot engine reads those tables, never a remote server.
- ``writeback``: bookings written to the destination calendar, from the outbox.
- ``service``: connect, select, choose the destination, disconnect, list (CLI, /v2, console).
"""
