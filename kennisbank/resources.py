"""Where the templates, static files and seed data are: inside the installed package, or the source tree.

The repository keeps them at its top level (`templates/`, `static/`, `seed/`), where they are edited.
A built wheel carries copies inside the package (`kennisbank/_resources/`, written by `setup.py`'s
build step), so `pip install kennisbank-*.whl` serves the site without a source tree; an editable
install and a checkout find the top-level folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

Resource = Literal["templates", "static", "seed"]
RESOURCES: tuple[Resource, ...] = ("templates", "static", "seed")
PACKAGED = Path(__file__).resolve().parent / "_resources"
SOURCE_TREE = Path(__file__).resolve().parents[1]


def resource_dir(name: Resource) -> Path:
    """The folder holding `name`: the packaged copy when there is one, else the source tree's."""
    packaged = PACKAGED / name
    return packaged if packaged.is_dir() else SOURCE_TREE / name
