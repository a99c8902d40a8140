"""One build step on top of pyproject.toml: the wheel carries templates/, static/ and embed/.

Those directories sit at the top of the source tree (the layout is fixed by the design), outside
the ``app`` package, so package data cannot name them. This step copies them into the built
package as ``app/_assets/``; ``app/settings.py`` looks there first and falls back to the checkout.
Editable installs skip it: they read the checkout itself.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ASSET_DIRS = ("templates", "static", "embed")


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        assets = Path(self.build_lib, "app", "_assets")
        # An in-tree build (pip install .) reuses build/: start clean, so a file deleted from
        # the source is not shipped again from an earlier build.
        shutil.rmtree(assets, ignore_errors=True)
        for name in ASSET_DIRS:
            self.copy_tree(name, str(assets / name))


setup(cmdclass={"build_py": BuildWithAssets})
