"""The executor's seams: every implementation satisfies its port, the executor imports its
drivers only through the ports (none inside a function), and no production module reaches
into govcloud.testing."""

from __future__ import annotations

import ast
from pathlib import Path

from govcloud.drivers.ports import CloudPort, HostProbe, PlaybookPort
from govcloud.drivers.real import AnsiblePlaybooks, NetworkProbe
from govcloud.testing.fake_cloud import FakeCloud
from govcloud.testing.scripted import ScriptedPlaybooks, ScriptedProbe

PKG = Path(__file__).resolve().parents[2] / "govcloud"


def test_every_implementation_satisfies_its_port():
    from govcloud.drivers.openstack import OpenStackCloud
    assert isinstance(OpenStackCloud(conn=None), CloudPort) and isinstance(FakeCloud(), CloudPort)
    assert isinstance(AnsiblePlaybooks(), PlaybookPort) and isinstance(ScriptedPlaybooks(), PlaybookPort)
    assert isinstance(NetworkProbe(), HostProbe) and isinstance(ScriptedProbe(), HostProbe)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, inside a function) for every import of a module file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, bool]] = []

    def walk(node: ast.AST, in_fn: bool) -> None:
        for child in ast.iter_child_nodes(node):
            fn = in_fn or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                out.extend((a.name, in_fn) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                out.extend((f"{child.module}.{a.name}", in_fn) for a in child.names)
            walk(child, fn)

    walk(tree, False)
    return out


def test_the_executor_reaches_drivers_only_through_its_ports():
    for path in (PKG / "migrate").glob("*.py"):
        for mod, in_fn in _imports(path):
            if mod.startswith("govcloud.drivers"):
                assert not in_fn, f"{path.name} imports {mod} inside a function"
                assert mod.startswith(("govcloud.drivers.ports", "govcloud.drivers.real")), f"{path.name}: {mod}"
            assert not mod.startswith(("openstack", "ansible_runner", "paramiko")), f"{path.name}: {mod}"


def test_no_production_module_imports_the_test_doubles():
    for path in PKG.rglob("*.py"):
        if "testing" in path.relative_to(PKG).parts:
            continue
        for mod, _ in _imports(path):
            assert not mod.startswith("govcloud.testing"), f"{path.relative_to(PKG)} imports {mod}"
