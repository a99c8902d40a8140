"""``make bench``: load-test the hot paths against real server processes and write bench/results.md.

Not part of ``make test``: numbers depend on the machine (and on whatever else runs on it), so
they are measured here and recorded, never asserted. ``python -m bench.run`` is the entry point;
wrk (Debian's package, installed by ``make bench``) is the load generator.

Pieces: ``seed`` (the data), ``server`` (uvicorn processes), ``wrk`` (the load tool and its Lua
scripts ``report.lua`` and ``book.lua``), ``hello`` and ``raw_sqlite`` (the two ceilings),
``weight`` (the booking page's first-load bytes), ``machine`` (what it ran on).

To see where a path spends its time, run the server under pyinstrument (the ``bench`` extra):
``.venv/bin/pyinstrument -m uvicorn --factory app.asgi:app_from_env`` and load it with wrk.
"""
