"""The layers' import rules (docs/architecture.md), checked on the source: a forbidden import fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WEB_FRAMEWORK = ("starlette", "uvicorn", "kennisbank.web")


def imported_modules(path: Path) -> set[str]:
    return imported_by(path.read_text(encoding="utf-8"), ".".join(path.relative_to(REPO).with_suffix("").parts[:-1]))


def imported_by(source: str, package: str) -> set[str]:
    """Every module `source` (a module of `package`) imports, relative imports resolved; `from m import n`
    also counts as importing `m.n`, since `n` may be a submodule."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def violations(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(REPO)} imports {module}"
        for path in paths
        for module in imported_modules(path)
        if any(module == f or module.startswith(f + ".") for f in forbidden)
    )


def test_the_search_library_imports_neither_the_platform_nor_a_web_or_database_framework():
    assert (
        violations(sorted((REPO / "search").rglob("*.py")), ("kennisbank", "tortoise", "jinja2", *WEB_FRAMEWORK)) == []
    )


def test_services_and_mail_import_nothing_of_the_web_layer():
    """Only `kennisbank.web` and the command line (which serves the app) may import the web layer."""
    services = [
        p
        for p in sorted((REPO / "kennisbank").rglob("*.py"))
        if "web" not in p.relative_to(REPO / "kennisbank").parts and p.name not in {"cli.py", "__main__.py"}
    ]
    assert services, "no service modules found"
    assert any(len(p.relative_to(REPO / "kennisbank").parts) > 1 for p in services), "the concept packages are checked"
    assert violations(services, WEB_FRAMEWORK) == []


@pytest.mark.parametrize(
    "source, package, expected",
    [
        ("from .web.templating import make_templates", "kennisbank", "kennisbank.web.templating"),
        ("from ..rendering import mail_environment", "kennisbank.web", "kennisbank.rendering"),
        ("from . import permissions", "kennisbank", "kennisbank.permissions"),
        ("from ..audit import Actor", "kennisbank.accounts", "kennisbank.audit"),
        ("from ..web import templating", "kennisbank.digest", "kennisbank.web.templating"),
        ("import starlette.requests", "kennisbank", "starlette.requests"),
    ],
)
def test_the_checker_resolves_imports(source: str, package: str, expected: str):
    assert expected in imported_by(source, package)


WEB = REPO / "kennisbank" / "web"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def web_modules(under: str = "") -> list[Path]:
    return sorted((WEB / under).rglob("*.py"))


def declares_routes(path: Path) -> bool:
    """A route module: one with a module-level ``routes`` list."""
    return any(
        isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "routes" for t in node.targets)
        for node in ast.parse(path.read_text(encoding="utf-8")).body
    )


def route_modules() -> list[Path]:
    return [path for path in web_modules() if declares_routes(path)]


def imports_of(paths: list[Path], targets: set[str]) -> list[str]:
    """Which of `paths` import which of `targets` (a module importing itself does not count)."""
    return sorted(
        f"{path.relative_to(REPO)} imports {module}"
        for path in paths
        for module in imported_modules(path)
        if module in targets and module != module_name(path)
    )


def test_route_modules_import_no_other_route_module():
    """What two route modules share (filters, request bodies, the account page) lives in a module
    without routes, so a route module can be read, moved or removed on its own."""
    modules = route_modules()
    assert len(modules) >= 10, [p.name for p in modules]
    assert imports_of(modules, {module_name(path) for path in modules}) == []


def test_only_the_app_factory_imports_route_modules():
    """The app factory assembles the routing table; no other module of the web layer (the helpers the
    routes share, the middleware) depends on a route module."""
    others = [path for path in web_modules() if path != WEB / "app.py"]
    assert imports_of(others, {module_name(path) for path in route_modules()}) == []


def test_the_routes_live_in_pages_and_api():
    """`pages/` holds the HTML pages and `api/` the JSON API, one module per concept; outside them only
    the probes (`health.py`) declare routes."""
    outside = [path.relative_to(WEB).as_posix() for path in route_modules() if path.parent.name not in {"pages", "api"}]
    assert outside == ["health.py"]
    assert any(declares_routes(path) for path in web_modules("pages"))
    assert any(declares_routes(path) for path in web_modules("api"))


def test_pages_api_and_middleware_keep_to_their_layer():
    """The pages and the API do not import one another, and the middleware (which runs before routing)
    imports neither."""
    pages = {module_name(path) for path in web_modules("pages")}
    api = {module_name(path) for path in web_modules("api")}
    assert imports_of(web_modules("pages"), api) == []
    assert imports_of(web_modules("api"), pages) == []
    assert imports_of(web_modules("middleware"), pages | api) == []
