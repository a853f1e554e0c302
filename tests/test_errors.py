"""The one error tree (kennisbank/errors.py): every class maps to its status through the app's single
handler, as problem+json on the API and as a Dutch page otherwise, and no route maps one by hand."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.routing import Route

import kennisbank
from kennisbank import errors
from kennisbank.errors import KennisbankError
from kennisbank.initiatives.importing import RowProblem
from kennisbank.settings import Settings
from kennisbank.web.app import create_app
from tests.conftest import Browser

WEB = Path(kennisbank.__file__).parent / "web"

# Import every module, so every subclass of the tree is known.
for _module in pkgutil.walk_packages(kennisbank.__path__, "kennisbank."):
    if ".migrations" not in _module.name and not _module.name.endswith("__main__"):
        importlib.import_module(_module.name)


def _subclasses(cls: type[KennisbankError]) -> Iterator[type[KennisbankError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


ERROR_CLASSES = [KennisbankError, *sorted(set(_subclasses(KennisbankError)), key=lambda c: c.__qualname__)]

#: Arguments for the classes whose constructor needs some.
ARGUMENTS: dict[str, tuple[Any, ...]] = {
    "InputError": ({"title": ["Vul een titel in."]},),
    "BadRequest": ({"pagina": ["Geef een heel getal."]},),
    "SettingsError": (["KENNISBANK_PORT is geen getal"],),
    "ImportFailed": ([RowProblem(3, "Vul een titel in.")],),
    "OIDCError": ("state mismatch",),
}


def _instance(cls: type[KennisbankError]) -> KennisbankError:
    if cls.__name__ in ARGUMENTS:
        return cls(*ARGUMENTS[cls.__name__])
    if issubclass(cls, errors.StaleVersion):
        return cls(7)
    return cls()


@pytest.fixture
def raising(settings: Settings) -> Iterator[Browser]:
    """The real app with one extra route on each side that raises the error class named in its path."""
    by_name = {cls.__qualname__ + "@" + cls.__module__: cls for cls in ERROR_CLASSES}

    async def raise_it(request: Request) -> None:
        raise _instance(by_name[request.path_params["name"]])

    app = create_app(settings)
    app.router.routes[:0] = [Route("/api/v1/_raise/{name}", raise_it), Route("/_raise/{name}", raise_it)]
    with Browser(app) as browser:
        browser.login_as("medewerker", "NL-GE")
        yield browser


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__qualname__)
def test_every_error_class_maps_to_its_status_as_problem_json_and_as_a_page(raising: Browser, cls):
    error = _instance(cls)
    name = cls.__qualname__ + "@" + cls.__module__

    api = raising.get(f"/api/v1/_raise/{name}")
    assert api.status_code == cls.status
    assert api.headers["content-type"].startswith("application/problem+json")
    body = api.json()
    assert body["status"] == cls.status and body["title"] == error.title and body["detail"] == error.detail
    assert body["detail"] and body["title"]
    if error.errors:
        assert {e["field"] or "" for e in body["errors"]} == set(error.errors)
    for header, value in error.headers.items():
        assert api.headers[header] == value

    page = raising.get(f"/_raise/{name}")
    assert page.status_code == cls.status
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="nl"' in page.text


def test_every_error_class_has_a_dutch_title_and_detail():
    for cls in ERROR_CLASSES:
        error = _instance(cls)
        assert 400 <= cls.status < 600, cls
        assert error.title and error.detail, cls
        assert "error" not in error.title.lower(), cls  # Dutch, not English


def _error_names() -> set[str]:
    return {cls.__name__ for cls in ERROR_CLASSES}


#: Calls that build the same answer the handler gives for an error of the tree.
DEFAULT_ANSWERS = {"problem", "invalid_input", "invalid_parameters"}
ERROR_PAGES = {"400.html", "403.html", "404.html", "500.html", "error.html"}


def _is_default_answer(handler: ast.ExceptHandler) -> bool:
    """An except whose whole body returns a problem or renders an error page: the app does that itself."""
    if len(handler.body) != 1 or not isinstance(handler.body[0], ast.Return | ast.Raise):
        return False
    node = handler.body[0]
    value = node.value if isinstance(node, ast.Return) else node.exc
    if not isinstance(value, ast.Call):
        return False
    name = value.func.id if isinstance(value.func, ast.Name) else getattr(value.func, "attr", "")
    if name in DEFAULT_ANSWERS or (name.startswith("_") and name.endswith(("not_found", "forbidden", "denied"))):
        return True
    if name in _error_names():  # one error of the tree turned into another that answers the same
        return True
    pages = [a.value for a in value.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return name == "render" and any(page in ERROR_PAGES for page in pages)


def _caught_names(handler: ast.ExceptHandler) -> set[str]:
    if handler.type is None:
        return set()
    nodes = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return {n.id if isinstance(n, ast.Name) else getattr(n, "attr", "") for n in nodes}


def test_no_route_turns_an_error_of_the_tree_into_the_answer_the_handler_gives():
    names = _error_names()
    offenders = []
    for path in sorted(WEB.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and _caught_names(node) & names and _is_default_answer(node):
                offenders.append(f"{path.relative_to(WEB)}:{node.lineno}")
    assert not offenders, f"map these through the app's KennisbankError handler instead: {offenders}"


def test_the_check_itself_recognises_a_hand_mapping():
    source = inspect.cleandoc(
        """
        try:
            x = 1
        except service.CollaborationNotFound:
            return _not_found()
        except InputError as exc:
            return render(request, "400.html", {"errors": exc.errors}, status_code=400)
        except InputError as exc:
            return _form(request, errors=exc.errors)
        """
    )
    handlers = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ExceptHandler)]
    assert [_is_default_answer(h) for h in handlers] == [True, True, False]
