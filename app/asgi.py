"""ASGI entry point for uvicorn workers: ``uvicorn --factory app.asgi:app_from_env``."""

from litestar import Litestar

from app.main import create_app
from app.settings import Settings


def app_from_env() -> Litestar:
    return create_app(Settings.from_env())
