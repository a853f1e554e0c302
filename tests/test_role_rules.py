"""Every rule about roles lives in kennisbank/permissions.py: no other module (nor template) compares
role values; they ask a named rule (`permissions.requires_second_factor(user)`, …)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import kennisbank
from kennisbank import permissions
from kennisbank.taxonomy import Role
from tests.conftest import Browser

PACKAGE = Path(kennisbank.__file__).parent
TEMPLATES = PACKAGE.parent / "templates"
#: Where role values may be compared: the rules, the role's definition, and the seed and demo data.
ALLOWED = {"permissions.py", "taxonomy.py", "demo_accounts.py", "seed_collaborations.py"}
ROLE_VALUES = {role.value for role in Role}


def _is_role(node: ast.expr) -> bool:
    """A role value: ``Role.X``, a role's literal name, or an object's ``.role``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "role" or (isinstance(node.value, ast.Name) and node.value.id == "Role")
    return isinstance(node, ast.Constant) and node.value in ROLE_VALUES


def _role_comparisons(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(_is_role(side) for side in [node.left, *node.comparators]):
            lines.append(node.lineno)
        # a query by role (``User.filter(role=Role.COORDINATOR)``) is a comparison in the database
        if isinstance(node, ast.Call) and any(k.arg == "role" and _is_role(k.value) for k in node.keywords):
            lines.append(node.lineno)
    return lines


def _modules() -> list[Path]:
    return [
        path for path in sorted(PACKAGE.rglob("*.py")) if path.name not in ALLOWED and "migrations" not in path.parts
    ]


def test_no_module_outside_permissions_compares_role_values():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in _modules()
        for line in _role_comparisons(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not offenders, f"ask a rule in kennisbank/permissions.py instead: {offenders}"


def test_no_template_compares_role_values():
    names = "|".join(ROLE_VALUES)
    pattern = re.compile(rf"\.role\s*(==|!=|\bin\b)|(==|!=)\s*['\"]({names})['\"]|['\"]({names})['\"]\s*(==|!=)")
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, f"give the template the answer of a rule in kennisbank/permissions.py: {offenders}"


def test_the_check_itself_finds_a_comparison():
    source = "if user.role == Role.BEHEERDER: pass\nx = role == 'coordinator'\nUser.filter(role=Role.COORDINATOR)\n"
    assert _role_comparisons(ast.parse(source)) == [1, 2, 3]


def test_the_rules_that_replaced_the_comparisons(anonymous: Browser):
    medewerker = anonymous.make_user("medewerker", "NL-GE")
    coordinator = anonymous.make_user("coordinator", None)
    blocked = anonymous.make_user("coordinator", None, email="geblokkeerd@test.example")
    blocked.active = False
    anonymous.run(blocked.save)

    assert permissions.own_province(medewerker) == "NL-GE"
    assert permissions.own_province(coordinator) is None and permissions.own_province(None) is None
    assert permissions.needs_province("medewerker") and not permissions.needs_province("coordinator")
    assert permissions.may_own_collaborations(coordinator) and not permissions.may_own_collaborations(medewerker)

    async def owner_ids() -> list[int]:
        return list(await permissions.collaboration_owners().values_list("id", flat=True))

    assert anonymous.run(owner_ids) == [coordinator.id]

    assert permissions.may_change_own_access(medewerker, medewerker, "medewerker", True)
    assert not permissions.may_change_own_access(medewerker, medewerker, "coordinator", True)
    assert not permissions.may_change_own_access(medewerker, medewerker, "medewerker", False)
    assert permissions.may_change_own_access(coordinator, medewerker, "coordinator", False)
    assert permissions.may_change_own_access(None, medewerker, "coordinator", False)
