"""The floors only point down.

Every ``import`` in ``govcloud/`` (at module level or inside a function, under TYPE_CHECKING or not)
is read from the source with :mod:`ast` and checked against the floor order below — the same order
the README's "Layout" section documents. A module may import its own package and any package on a
lower floor; packages on one floor are independent of each other. Also: the cloud and host
libraries (openstacksdk, ansible-runner, paramiko) are imported only in ``drivers/``, and ``cli/``
writes no file (it parses, calls a use case and renders).

The checker is tested on a small synthetic tree too, so a checker that silently finds nothing
cannot pass.
"""

from __future__ import annotations

import ast
from pathlib import Path


PKG = Path(__file__).resolve().parents[2] / "govcloud"

# Bottom to top. Root modules (govcloud/errors.py …) are named by their stem, govcloud/__init__.py is "".
FLOORS: list[set[str]] = [
    {"", "errors", "paths", "redact", "bulk"},           # root modules: exit codes, paths, scrubbing
    {"base"},                                            # ground floor: atomic I/O, reader, digests, processes
    {"model"},                                           # dataclasses and enums, pure
    {"planning", "store"},                               # pure planning | plan files, journal, locks, audit log
    {"drivers"},                                         # OpenStack, Ansible, SSH, DNS/HAProxy adapters
    {"compliance", "testing"},                           # MLPS checks over host facts | fakes of the driver ports
    {"inventory"},                                       # read, load, validate, generate, export, discovery parsing
    {"interchange", "migrate"},                          # importers | the executor
    {"render"},                                          # documents and console views
    {"usecases"},                                        # one function per command, typed results
    {"cli"},                                             # parse, call, render
    {"__main__", "locale"},                              # python -m govcloud | the catalog tool (maintainers: reads the CLI for its help texts)
]
CLOUD_LIBS = {"openstack", "ansible_runner", "ansible", "paramiko", "keystoneauth1", "psycopg"}
FILE_WRITERS = {"write_atomic", "append_private", "write_text", "write_bytes", "mkdir", "makedirs", "unlink",
                "rmtree", "chmod", "fchmod", "copy2", "copyfile", "copytree", "touch", "mkstemp",
                "NamedTemporaryFile", "rmdir", "symlink_to", "hardlink_to", "truncate"}

_WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC"}


def unit_of(rel: Path) -> str:
    """The floor unit of a file under the package: its top package, or a root module's stem."""
    if len(rel.parts) > 1:
        return rel.parts[0]
    return "" if rel.stem == "__init__" else rel.stem


def _floor(unit: str) -> int:
    for n, floor in enumerate(FLOORS):
        if unit in floor:
            return n
    raise AssertionError(f"govcloud/{unit} is on no floor: add it to FLOORS and the README's layout")


def imports_of(path: Path, rel: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ["govcloud", *rel.parts[:-1]]
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if node.module is None or mod in ("govcloud",):   # from . import x / from govcloud import x
                out.extend((node.lineno, f"{mod}.{a.name}") for a in node.names)
            else:
                out.append((node.lineno, mod))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) == "import_module"
                   or getattr(node.func, "id", None) in ("__import__", "import_module"))):
            out.append((node.lineno, node.args[0].value))
    return out


def upward_imports(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        src = unit_of(rel)
        for line, mod in imports_of(path, rel):
            parts = mod.split(".")
            if parts[0] != "govcloud":
                continue
            dst = parts[1] if len(parts) > 1 else ""
            if not any(dst in floor for floor in FLOORS):
                dst = ""          # from govcloud import __version__: the root package (new packages
                                  # fail test_every_package_is_on_a_floor)
            if dst == src:
                continue
            if _floor(dst) >= _floor(src):
                found.append(f"govcloud/{rel}:{line}: {src or 'govcloud'} (floor {_floor(src)}) imports "
                             f"{mod} (floor {_floor(dst)})")
    return found


def cloud_lib_imports(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] == "drivers":
            continue
        for line, mod in imports_of(path, rel):
            if mod.split(".")[0] in CLOUD_LIBS:
                found.append(f"govcloud/{rel}:{line}: imports {mod} outside drivers/")
    return found


def _write_mode(call: ast.Call) -> bool:
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    if mode is None:
        return False
    if not isinstance(mode, ast.Constant) or not isinstance(mode.value, str):
        return True                      # a computed mode: assume it writes
    return any(c in mode.value for c in "wax+")


def file_writes(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            what = None
            if isinstance(node, ast.Call):
                fn = node.func
                name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else None
                owner = fn.value.id if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) else None
                if name in FILE_WRITERS:
                    what = f"{name}()"
                elif name in ("replace", "rename") and (owner == "os" or (len(node.args) == 1 and owner != "dataclasses")):
                    what = f"{name}()"         # os.replace(a, b), Path.replace(target); str.replace takes two
                elif name in ("remove", "copy", "move") and owner in ("os", "shutil"):
                    what = f"{owner}.{name}()"  # not list.remove, dict.copy
                elif name in ("open", "fdopen") and _write_mode(node):
                    what = "open() for writing"
            elif isinstance(node, ast.Attribute) and node.attr in _WRITE_FLAGS:
                what = f"os.{node.attr}"
            elif isinstance(node, (ast.ImportFrom,)) and any(a.name in FILE_WRITERS for a in node.names):
                what = "imports " + ", ".join(a.name for a in node.names if a.name in FILE_WRITERS)
            if what:
                found.append(f"govcloud/cli/{rel}:{node.lineno}: {what}")
    return found


# ---------------------------------------------------------------- the package


def test_every_package_is_on_a_floor() -> None:
    units = {unit_of(p.relative_to(PKG)) for p in PKG.rglob("*.py")}
    for unit in units:
        _floor(unit)
    assert {"base", "model", "store", "inventory", "cli"} <= units


def test_no_import_points_up() -> None:
    assert upward_imports(PKG) == []


def test_cloud_and_host_libraries_only_in_drivers() -> None:
    assert cloud_lib_imports(PKG) == []


def test_cli_writes_no_file() -> None:
    assert file_writes(PKG / "cli") == []


def test_cli_builds_no_table() -> None:
    """Views live in render/views/: no cli module imports rich's tables."""
    found = [f"govcloud/cli/{p.name}:{line}: imports {mod}" for p in sorted((PKG / "cli").glob("*.py"))
             for line, mod in imports_of(p, p.relative_to(PKG)) if mod in ("rich.table", "rich.text")]
    assert found == []


def test_moved_modules_are_gone() -> None:
    """Moved modules have one home; no compatibility copy lingers where they were."""
    for old in ("store/atomic.py", "inventory/reader.py", "cli/approvals.py"):
        assert not (PKG / old).exists(), old


def test_import_formats_registry_names_only_interchange_modules() -> None:
    """The importer registry loads modules by name (importlib): those names obey the floors too."""
    from govcloud.interchange.formats import FORMATS

    assert FORMATS and all(f.module.startswith("govcloud.interchange.") for f in FORMATS.values())


# ---------------------------------------------------------------- the checker itself


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "govcloud"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_checker_finds_an_upward_import_even_inside_a_function(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "__init__.py": "",
        "model/__init__.py": "",
        "model/x.py": "def f():\n    from govcloud.inventory.loader import load\n",
        "store/y.py": "from ..inventory import loader\nfrom govcloud.model import x\n",
        "inventory/loader.py": "from govcloud.store import y\nfrom . import other\n",
        "planning/p.py": "from govcloud.store import y\n",
        "base/b.py": "import importlib\nimportlib.import_module('govcloud.cli.app')\n",
    })
    found = upward_imports(root)
    assert len(found) == 4, found
    assert found[0].startswith("govcloud/base/b.py:2: base (floor 1) imports govcloud.cli.app")
    assert any("model/x.py:2" in f for f in found)
    assert any("store/y.py:1" in f and "govcloud.inventory" in f for f in found)
    assert any("planning/p.py:1" in f and "govcloud.store" in f for f in found)   # siblings are independent


def test_checker_finds_cloud_libraries_and_cli_writes(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "drivers/ok.py": "import openstack\nimport paramiko\n",
        "migrate/bad.py": "def f():\n    import openstack.connection\n",
        "compliance/bad.py": "from ansible_runner import run\n",
        "cli/bad.py": ("from pathlib import Path\nimport os\n"
                       "def f(p, m):\n    Path(p).write_text('x')\n    open(p, 'w')\n    open(p)\n"
                       "    open(p, mode=m)\n    os.open(p, os.O_WRONLY)\n"
                       "    from govcloud.base.atomic import write_atomic\n"
                       "    p.replace('a', 'b')\n    {}.copy()\n    [].remove(1)\n    os.remove(p)\n"
                       "    Path(p).replace(q)\n    shutil.move(p, q)\n"),
    })
    assert [f.split(":")[0:2] for f in cloud_lib_imports(root)] == [
        ["govcloud/compliance/bad.py", "1"], ["govcloud/migrate/bad.py", "2"]]
    lines = sorted({int(f.split(":")[1]) for f in file_writes(root / "cli")})
    assert lines == [4, 5, 7, 8, 9, 13, 14, 15]
