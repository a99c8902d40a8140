"""ASGI entry point for uvicorn workers: ``uvicorn --factory app.asgi:app_from_env``."""

import gc

from litestar import Litestar

from app.main import create_app
from app.settings import Settings


def app_from_env() -> Litestar:
    settings = Settings.from_env()
    if reason := settings.insecure_reason():  # `booking serve` said so already; uvicorn alone
        raise RuntimeError(reason)
    app = create_app(settings)
    freeze_startup_objects()
    return app


def freeze_startup_objects() -> None:
    """Exempt everything built at start-up from the cyclic garbage collector's full passes.

    The imported libraries and the app leave ~170,000 long-lived objects; each full collection
    walked them all (over 100 ms on a small machine), a pause some request then waits out. Done
    once per server process, here rather than in ``create_app``, which tests call hundreds of times.
    """
    gc.collect()
    gc.freeze()
