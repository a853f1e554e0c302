"""Build step only (the project is declared in pyproject.toml): copy the top-level templates, static
files and seed data into the package, so an installed wheel finds them (`kennisbank/resources.py`)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = ("templates", "static", "seed")  # as kennisbank.resources.RESOURCES (the wheel test builds both)


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        for name in RESOURCES:
            target = Path(self.build_lib) / "kennisbank" / "_resources" / name
            shutil.copytree(
                Path(__file__).parent / name,
                target,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )


setup(cmdclass={"build_py": BuildWithResources})
