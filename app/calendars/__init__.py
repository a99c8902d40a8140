"""Calendar connections: a host's CalDAV calendars and ICS feeds block slots, and bookings land in
the host's destination calendar.

- ``expand``: iCalendar data -> busy intervals (pure; recurrences, zones, caps).
- ``providers``: the small interface every kind of connection implements, and its errors;
  ``caldav_provider`` and ``ics_feed`` implement it, over ``http`` (limits, messages);
  ``connections`` opens one for a stored connection (unsealed secrets, checked HTTP client).
- ``sync``: reads remote calendars into local tables (``calendar_busy`` per calendar, merged
  per host into ``host_busy`` by ``busy``), in the background and, through ``freshness``, before
  a booking; the slot engine reads those tables, never a remote server. ``alerts``: the email a
  host gets when a calendar stays unreachable.
- ``writeback``: bookings written to the destination calendar, from the outbox; the references
  ``/v2/bookings/{uid}/references`` lists.
- ``service``: connect, select, choose the destination, disconnect, list (CLI, /v2, console);
  ``cli``: ``booking calendars …``.
"""
