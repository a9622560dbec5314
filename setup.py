"""Packaging glue pyproject.toml cannot say: ship the checkout's top-level files in the package.

The repository keeps `templates/`, `data/` and `.env.example` at the top, where editors and
developers look for them. A wheel needs them inside the `mailer` package, where
`importlib.resources` finds them after `pip install` or `pipx install`; this build step copies
them there (`mailer/templates/`, `mailer/data/`, `mailer/data/env.example`). MANIFEST.in puts
the same files into the sdist, so a wheel built from the sdist has them too. An editable
install (`pip install -e .`) copies nothing: the code then finds them in the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# checkout path -> path inside the built package
BUNDLED = {
    "templates": "mailer/templates",
    "data/caniemail": "mailer/data/caniemail",
    ".env.example": "mailer/data/env.example",
}
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


class BuildWithBundledFiles(build_py):
    """build_py, then copy the bundled folders and files into build/lib/mailer/."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for source, target in BUNDLED.items():
            origin, destination = ROOT / source, Path(self.build_lib) / target
            if not origin.exists():
                raise FileNotFoundError(f"{origin}: missing, cannot build a complete package")
            if origin.is_dir():
                shutil.rmtree(destination, ignore_errors=True)
                shutil.copytree(origin, destination, ignore=SKIP)
            else:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(origin, destination)


setup(cmdclass={"build_py": BuildWithBundledFiles})
