"""The wheel serves everything: built as a packager builds it, installed as an operator installs it.

``python -m build`` makes the sdist and then the wheel from the unpacked sdist (so both must carry
the templates, static files, embed script, migrations and catalogs); the wheel goes into a fresh
virtualenv outside the checkout, and ``booking migrate`` / ``booking serve`` run from yet another
directory, where nothing of the checkout can be found. Built and installed once per test session.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import EMBED_DIR, PACKAGE_DIR, STATIC_DIR, TEMPLATES_DIR
from app.web.embed import embed_script
from bench.server import free_port
from serving import wait_ready

pytestmark = pytest.mark.xdist_group("wheel")

CHECKOUT = PACKAGE_DIR.parent
# What the checkout carries beside the Python code, and where the installed package keeps it.
ASSETS = {"templates": TEMPLATES_DIR, "static": STATIC_DIR, "embed": EMBED_DIR}
PACKAGE_DATA = ("db/migrations", "locales")


def files_under(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def clean_env(**extra: str) -> dict[str, str]:
    """The machine's environment (pip's settings included) without anything pointing at us."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    for name in ("VAR_DIR", "DATABASE_URL", "REDIS_URL", "SECRET_KEYS", "PUBLIC_URL", "DEMO"):
        env.pop(name, None)
    return {**env, **extra}


# Session scope: xdist may interleave this module's tests with others' on one worker, and a module
# fixture would then be built again (a minute and a half each time) after every switch.
@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv (outside the checkout) with the wheel installed; returns its bin/."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(CHECKOUT)],
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("*.whl")
    # Our pip installs into the new environment (--python): no pip of its own to bootstrap.
    venv.create(work / "venv", with_pip=False)
    bin_dir = work / "venv" / "bin"
    into = ["--python", str(bin_dir / "python")]
    pip = subprocess.run(
        [sys.executable, "-m", "pip", *into, "install", "--quiet", str(wheel)],
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    return bin_dir


@pytest.fixture(scope="session")
def installed_package(installed: Path) -> Path:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import app, os; print(os.path.dirname(app.__file__))"],
        cwd=installed.parent.parent,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(where.stdout.strip())


@pytest.fixture(scope="module")
def served(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``booking migrate && DEMO=1 booking serve`` from an empty directory of their own."""
    here = tmp_path_factory.mktemp("operator")
    port = free_port()
    env = clean_env(PORT=str(port), DEMO="1")
    booking = str(installed / "booking")
    migrated = subprocess.run(
        [booking, "migrate"], cwd=here, env=env, capture_output=True, text=True
    )
    assert migrated.returncode == 0, migrated.stderr
    log = (here / "serve.log").open("w")
    server = subprocess.Popen(
        [booking, "serve"], cwd=here, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base_url, server, here / "serve.log")
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert server.returncode == 0
    assert (here / "var" / "booking.db").exists()  # var/ of the working directory


def test_the_installed_package_is_not_the_checkout(installed_package: Path):
    assert CHECKOUT not in installed_package.parents
    assert installed_package.parent.name == "site-packages"


def test_the_wheel_carries_every_template_static_file_and_the_embed_script(installed_package):
    for name, source in ASSETS.items():
        assert files_under(installed_package / "_assets" / name) == files_under(source), name


def test_the_wheel_carries_the_migrations_and_catalogs(installed_package: Path):
    for name in PACKAGE_DATA:
        wanted = {f for f in files_under(PACKAGE_DIR / name) if not f.endswith(".pyc")}
        assert files_under(installed_package / name) >= wanted, name


def test_an_installed_server_serves_pages_script_static_files_and_schema(served: str):
    page = httpx.get(served + "/demo/30min")
    assert page.status_code == 200
    assert "/static/widget.css" in page.text
    script = httpx.get(served + "/embed.js")
    assert script.status_code == 200
    # The checkout's script with its words filled in from the installed catalogs.
    assert script.content == embed_script()[0]
    assert b'"ja":{"book":"' in script.content
    css = httpx.get(served + "/static/widget.css")
    assert css.status_code == 200
    assert css.content == (STATIC_DIR / "widget.css").read_bytes()
    schema = httpx.get(served + "/schema/openapi.json")
    assert schema.status_code == 200
    assert "/v2/bookings" in schema.json()["paths"]
    assert httpx.get(served + "/schema").status_code == 200
