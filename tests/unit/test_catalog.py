"""Every user-facing text goes through the gettext catalog (issue 21).

- the catalogs agree with the source: every marked text translated, placeholders equal, nothing
  unused, every ``.mo`` compiled from its ``.po`` (``python -m govcloud.locale.catalog check``);
- the checker itself catches each kind of disagreement;
- no Chinese text is written in the source outside the catalogs (data and input vocabulary aside);
- no English message is written where a layer builds a user-facing error, problem or violation
  without the catalog;
- the run-time functions translate, keep English as the ``str`` value and survive pickling.
"""

from __future__ import annotations

import ast
import importlib
import pickle
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import govcloud
from govcloud.base.i18n import Msg, N_, localize, tr, zh_en
from govcloud.locale import catalog

ROOT = Path(govcloud.__file__).resolve().parent
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")

# Modules whose Chinese literals are data or input vocabulary, not messages: each with the reason.
DATA_MODULES = {
    "govcloud/inventory/heyuan_data.py": "the bundled Heyuan example's census data (names of real departments)",
    "govcloud/inventory/heyuan.py": "builds the Heyuan example inventory from its census data",
    "govcloud/inventory/catalogue.py": "the synthetic generator's vocabulary of department/system names",
    "govcloud/inventory/generate.py": "the synthetic generator's name lists (made-up departments and systems)",
    "govcloud/interchange/values.py": "reads Chinese values in import files (是/否, 物理机 …): input vocabulary",
    "govcloud/interchange/osmap.py": "recognises Chinese OS names in import files (银河麒麟 …): input vocabulary",
    "govcloud/interchange/formats.py": "recognises Chinese column headers of import files: input vocabulary",
    "govcloud/model/vocabulary.py": "the words read in input values (是/否, 年/月/日, 底/末): input vocabulary",
}

# test doubles (the fake cloud) speak to tests, not to users
NOT_USER_FACING = {"testing"}


def _sources() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT.parent).as_posix()


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string statements (docstrings and bare string expressions)."""
    return {id(n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)}


def cjk_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip and CJK.search(n.value)]


def test_catalogs_agree_with_the_source() -> None:
    problems = catalog.check()
    assert problems == [], "\n".join(problems[:40]) + f"\n… {len(problems)} problem(s): run python -m govcloud.locale.catalog update"


def test_every_catalog_is_compiled_and_loaded() -> None:
    pos = sorted(catalog.PO_DIR.glob("*.po"))
    assert pos, "no catalogs"
    for po in pos:
        assert po.with_suffix(".mo").exists(), f"{po.name} has no compiled .mo"
    # the run-time loader sees a translation from each catalog
    for po in pos:
        cat = catalog.read(po.stem)
        m = next(m for m in cat if m.id and m.string)
        assert tr(m.id, "zh", m.context) == m.string, (po.name, m.id)


def _found(entries: dict[tuple[str | None, str], list[tuple[str, int]]], pkg: str = "t") -> dict[str, catalog.Found]:
    box = catalog.Found()
    box.locations.update(entries)
    return {pkg: box}


@pytest.fixture
def po_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(catalog, "PO_DIR", tmp_path)
    return tmp_path


def test_checker_reports_a_text_without_translation(po_dir) -> None:
    problems = catalog.check(_found({(None, "{n} systems moved"): [("govcloud/t/x.py", 7)]}))
    assert any("govcloud/t/x.py:7" in p and "no Chinese translation" in p for p in problems), problems


def test_checker_reports_placeholders_that_differ(po_dir) -> None:
    catalog.seed("t", [(None, "{n} systems moved", "已迁移 {m} 个系统")])
    problems = catalog.check(_found({(None, "{n} systems moved"): [("govcloud/t/x.py", 7)]}))
    assert any("different placeholders" in p for p in problems), problems


def test_checker_reports_unused_texts_and_stale_mo(po_dir) -> None:
    catalog.seed("t", [(None, "kept", "保留"), (None, "gone", "已删")])
    found = _found({(None, "kept"): [("govcloud/t/x.py", 1)]})
    problems = catalog.check(found)
    assert any("'gone'" in p and "no longer used" in p for p in problems), problems
    (po_dir / "t.mo").write_bytes(b"\x00")
    assert any("t.mo is not compiled" in p for p in catalog.check(found))


def test_checker_reports_fuzzy_and_inconsistent_translations(po_dir) -> None:
    catalog.seed("t", [(None, "state", "状态")])
    catalog.seed("u", [(None, "state", "情况")])
    found = _found({(None, "state"): [("govcloud/t/x.py", 1)]})
    found.update(_found({(None, "state"): [("govcloud/u/y.py", 2)]}, "u"))
    assert any("translated differently" in p for p in catalog.check(found))
    text = (po_dir / "u.po").read_text(encoding="utf-8").replace('msgid "state"', '#, fuzzy\nmsgid "state"')
    (po_dir / "u.po").write_text(text, encoding="utf-8")
    assert any("fuzzy" in p for p in catalog.check(found))


def test_extraction_needs_literal_texts_and_finds_contexts(tmp_path) -> None:
    src = tmp_path / "m.py"
    src.write_text("from govcloud.base.i18n import Msg, N_, tr\n"
                   "A = N_('moved', ctx='verb')\n"
                   "B = tr(A, 'zh')\n"            # reading a marked table: allowed
                   "C = Msg(f'{A} x')\n"          # a computed text cannot be translated
                   "D = Msg('{n} hosts', n=3)\n", encoding="utf-8")
    found: dict[str, catalog.Found] = {}
    catalog.extract_source(src, found, rel="govcloud/t/m.py")
    box = found["t"]
    assert set(box.locations) == {("verb", "moved"), (None, "{n} hosts")}
    assert any("m.py:4" in e and "literal" in e for e in box.errors), box.errors


def test_no_chinese_text_outside_the_catalogs() -> None:
    counts: dict[str, list[str]] = {}
    for path in _sources():
        rel = _rel(path)
        found = cjk_literals(path)
        if rel in DATA_MODULES:
            assert found, f"{rel} is listed as data but has no Chinese literal: take it off DATA_MODULES"
            continue
        for line, text in found:
            counts.setdefault(catalog.package_of(rel), []).append(f"{rel}:{line}: {text[:30]!r}")
    assert not counts, "Chinese text outside the catalogs (write English with tr/N_/zh_en/Msg and translate in " \
        "the .po):\n" + "\n".join(w for where in counts.values() for w in where[:15])


def _user_facing_errors() -> set[str]:
    """Names of the exceptions whose message reaches the user: GovcloudError's subclasses and the
    parse errors the CLI shows as they are."""
    from govcloud.errors import GovcloudError
    for mod in pkgutil.walk_packages(govcloud.__path__, "govcloud."):
        if not mod.name.startswith("govcloud.locale") and not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)
    names: set[str] = set()
    todo = [GovcloudError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names | {"AnsibleInventoryError", "NetboxError", "PlanShapeError", "DateError"}


def _text(node: ast.AST | None) -> bool:
    """A message written out in the source: a literal with a word in it, an f-string, a
    concatenation or ``%``/``.format`` of such."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(re.search(r"[A-Za-z]{2,}", node.value))
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _text(node.left) or _text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _text(node.func.value)
    return False


# (callee name, position of the message argument): how the layers below the renderer build
# problems and violations
_MESSAGE_CALLS = {"Problem": 2, "ScanProblem": 1, "report": 2, "ctx.add": 2, "result.add": 2}
# methods of a problem collector (inventory/loader.py): name → position of the message
_COLLECTOR = {"at_entity": 2, "error": 1, "warn": 1}
_NOT_COLLECTORS = {"warnings", "log", "logger", "logging", "console", "out", "err", "typer", "click"}


def hard_coded(path: Path, errors: set[str], rel: str | None = None) -> list[str]:
    rel = rel or _rel(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for n in ast.walk(tree):
        if not isinstance(n, ast.Call):
            continue
        name = ast.unparse(n.func)
        short = name.rsplit(".", 1)[-1]
        args: list[ast.AST | None] = []
        if short in errors:
            args = [n.args[0] if n.args else None]
        elif name in _MESSAGE_CALLS or short in ("Problem", "ScanProblem"):
            at = _MESSAGE_CALLS.get(name, _MESSAGE_CALLS.get(short, 2))
            args = [n.args[at] if len(n.args) > at else None]
        elif short in _COLLECTOR and isinstance(n.func, ast.Attribute) \
                and ast.unparse(n.func.value).rsplit(".", 1)[-1] not in _NOT_COLLECTORS:
            at = _COLLECTOR[short]
            args = [n.args[at] if len(n.args) > at else None]
        else:
            continue
        args += [k.value for k in n.keywords if k.arg in ("hint", "message")]
        for a in args:
            if _text(a):
                out.append(f"{rel}:{n.lineno}: {name}({ast.unparse(a)[:50]})")
    return out


def test_no_hard_coded_english_messages() -> None:
    errors = _user_facing_errors()
    counts: dict[str, list[str]] = {}
    for path in _sources():
        if catalog.package_of(_rel(path)) in NOT_USER_FACING:
            continue
        for hit in hard_coded(path, errors):
            counts.setdefault(catalog.package_of(_rel(path)), []).append(hit)
    assert not counts, "messages written in English outside the catalog (use Msg('… {x} …', x=…) and " \
        "translate in the .po):\n" + "\n".join(f"{pkg}: {len(h)}\n  " + "\n  ".join(h[:10])
                                               for pkg, h in counts.items())


def test_the_scanners_see_what_they_look_for(tmp_path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('"""模块说明"""\nX = "迁移"\n'
                   'raise GovcloudError(f"cannot read {p}")\n'
                   'report(E, "code", "the thing is wrong", hint="fix " + x)\n'
                   'raise GovcloudError(Msg("cannot read {p}", p=p), hint=Msg("fix it"))\n', encoding="utf-8")
    assert [line for line, _ in cjk_literals(bad)] == [2]
    hits = hard_coded(bad, {"GovcloudError"}, rel="bad.py")
    assert len(hits) == 3 and all(":3:" in h or ":4:" in h for h in hits), hits


def test_translation_at_run_time() -> None:
    assert tr("classified", "zh", ctx="enum:Secrecy") == "涉密"
    assert tr("classified", "en", ctx="enum:Secrecy") == "classified"
    marked = N_("classified", ctx="enum:Secrecy")
    assert tr(marked, "zh") == "涉密" and marked == "classified"
    assert zh_en("classified", ctx="enum:Secrecy") == ("涉密", "classified")
    # a text the catalog lacks shows as written, in either language
    assert tr("no such text in any catalog", "zh") == "no such text in any catalog"


def test_msg_is_its_english_text_and_translates_on_demand(monkeypatch) -> None:
    from govcloud.base import i18n
    monkeypatch.setattr(i18n, "_zh", {**i18n._load(), "{n} host(s) of {what}": "{what}的 {n} 台主机",
                                      "the room": "该机房"})
    inner = Msg("the room")
    m = Msg("{n} host(s) of {what}", n=3, what=inner)
    assert m == "3 host(s) of the room" and isinstance(m, str)
    assert m.text("zh") == "该机房的 3 台主机" and m.text("en") == "3 host(s) of the room"
    assert localize(m, "zh") == "该机房的 3 台主机" and localize("plain", "zh") == "plain" and localize(None, "zh") == ""
    back = pickle.loads(pickle.dumps(m))
    assert isinstance(back, Msg) and back.text("zh") == "该机房的 3 台主机"
    err = ValueError(m)
    assert localize(err.args[0], "zh") == "该机房的 3 台主机"


def test_the_catalog_tool_runs_from_the_command_line() -> None:
    proc = subprocess.run([sys.executable, "-m", "govcloud.locale.catalog", "check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "0 problem(s)" in proc.stderr


def test_an_exception_carrying_a_msg_is_localized_as_a_parameter(monkeypatch) -> None:
    from govcloud.base import i18n
    monkeypatch.setattr(i18n, "_zh", {**i18n._load(), "no such day": "没有这一天", "--date: {exc}": "--date：{exc}"})
    err = ValueError(Msg("no such day"))
    m = Msg("--date: {exc}", exc=err)
    assert m == "--date: no such day" and m.text("zh") == "--date：没有这一天"
    assert localize(err, "zh") == "没有这一天" and localize(OSError(2, "gone"), "zh") == "[Errno 2] gone"
