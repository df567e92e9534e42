"""Keeps the gettext catalogs in step with the source (maintainers and the catalog test).

    python -m govcloud.locale.catalog check     # exit 1 and list every problem
    python -m govcloud.locale.catalog update    # add new texts (untranslated), drop unused ones, compile

Texts are found in the source by the marking functions of ``govcloud/base/i18n.py`` (``tr``,
``N_``, ``zh_en``, ``Msg``) and ``fld`` (an entity field's label), whose first argument must be a
literal, and by introspection of every ``LabeledEnum`` (a member's English label, context
``enum:<Class>``). Each package keeps the texts its modules use in ``zh_CN/LC_MESSAGES/<package>.po``;
one text used by two packages is in both, translated alike. Babel reads, writes and compiles the
catalogs (a test and maintainer dependency only: at run time the standard library reads the ``.mo``).
"""

from __future__ import annotations

import ast
import importlib
import io
import string
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from govcloud.base.i18n import CATALOG_LOCALE, LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent          # the govcloud package
PO_DIR = LOCALE_DIR / CATALOG_LOCALE / "LC_MESSAGES"

# marking function → (position of the msgid, position of the context or None, default context)
MARKERS: dict[str, tuple[int, int | None, str | None]] = {
    "tr": (0, 2, None), "N_": (0, 1, None), "zh_en": (0, 1, None), "Msg": (0, 1, None),
    "fld": (0, None, "field"),
}

HEADER = ("# Chinese translations of govcloud's texts (msgids are English).\n"
          "# Kept by: python -m govcloud.locale.catalog update; translate every empty msgstr.")

Key = tuple[str | None, str]          # (context, msgid)


@dataclass
class Found:
    locations: dict[Key, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)


def package_of(rel: str) -> str:
    """``govcloud/render/views/plan.py`` → ``render``; a top-level module → ``govcloud``."""
    parts = Path(rel).parts
    return parts[1] if len(parts) > 2 else "govcloud"


def _const(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def extract_source(path: Path, found: dict[str, Found], rel: str | None = None) -> None:
    rel = rel or path.relative_to(ROOT.parent).as_posix()
    pkg = package_of(rel)
    box = found.setdefault(pkg, Found())
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    # a marking function counts where it is the one from base/i18n.py (or the file's own fld)
    marking = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
               and n.module in ("govcloud.base.i18n", "govcloud.model.entities") for a in n.names}
    marking |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "fld"}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else \
            node.func.attr if isinstance(node.func, ast.Attribute) else None
        if name not in MARKERS or name not in marking:
            continue
        at, ctx_at, ctx_default = MARKERS[name]
        if len(node.args) <= at:
            continue
        msgid = _const(node.args[at])
        if msgid is None:
            if name in ("N_", "zh_en", "Msg"):     # tr(table[key], lang) is how a marked table is read
                box.errors.append(f"{rel}:{node.lineno}: {name}() needs a literal text, not {ast.unparse(node.args[at])[:60]}")
            continue
        ctx = ctx_default
        kw = {k.arg: k.value for k in node.keywords}
        if "ctx" in kw and name != "Msg":
            ctx = _const(kw["ctx"])
        elif ctx_at is not None and len(node.args) > ctx_at:
            ctx = _const(node.args[ctx_at])
            if ctx is None and not (isinstance(node.args[ctx_at], ast.Constant) and node.args[ctx_at].value is None):
                box.errors.append(f"{rel}:{node.lineno}: {name}() needs a literal context")
                continue
        box.locations[(ctx, msgid)].append((rel, node.lineno))


def _enum_modules() -> list[str]:
    mods = []
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "LabeledEnum" in text and "class " in text:
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.ClassDef) and any(
                        (isinstance(b, ast.Name) and b.id == "LabeledEnum") or
                        (isinstance(b, ast.Attribute) and b.attr == "LabeledEnum") for b in node.bases):
                    mods.append(".".join(path.relative_to(ROOT.parent).with_suffix("").parts))
                    break
    return mods


def extract_enums(found: dict[str, Found]) -> None:
    from govcloud.model.enums import LabeledEnum
    for mod in _enum_modules():
        module = importlib.import_module(mod)
        pkg = package_of(mod.replace(".", "/") + ".py")
        box = found.setdefault(pkg, Found())
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, LabeledEnum) and obj is not LabeledEnum \
                    and obj.__module__ == mod:
                for member in obj:
                    box.locations[(f"enum:{obj.__name__}", member.en)].append((mod.replace(".", "/") + ".py", 0))


def extract_help(found: dict[str, Found]) -> None:
    """The CLI's help texts (docstrings, ``help=``) and typer's own words: catalog ``help.po``."""
    import typer.main
    from govcloud.cli import helplang
    from govcloud.cli.root import app
    box = found.setdefault("help", Found())
    for text in [*helplang.texts(typer.main.get_command(app)), *helplang.TYPER_TEXTS.values(), helplang.HELP_OPTION,
                 *helplang.USAGE_TEXTS]:
        box.locations[(helplang.CTX, text)].append(("govcloud/cli", 0))


def extract() -> dict[str, Found]:
    found: dict[str, Found] = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "__pycache__" not in path.parts:
            extract_source(path, found)
    extract_enums(found)
    extract_help(found)
    return found


def po_path(pkg: str) -> Path:
    return PO_DIR / f"{pkg}.po"


def read(pkg: str):
    from babel.messages.pofile import read_po
    path = po_path(pkg)
    if not path.exists():
        return new_catalog(pkg)
    with path.open("rb") as fh:
        return read_po(fh, locale=CATALOG_LOCALE, domain=pkg)


def new_catalog(pkg: str):
    """An empty catalog whose header never changes (no dates: the files differ only by their texts)."""
    from datetime import datetime, timezone
    from babel.messages.catalog import Catalog
    epoch = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return Catalog(locale=CATALOG_LOCALE, domain=pkg, project="govcloud", version="1", fuzzy=False,
                   creation_date=epoch, revision_date=epoch, charset="utf-8",
                   msgid_bugs_address="", last_translator="govcloud", language_team="govcloud",
                   header_comment=HEADER)


def _mo_bytes(cat) -> bytes:
    from babel.messages.mofile import write_mo
    buf = io.BytesIO()
    write_mo(buf, cat, use_fuzzy=False)
    return buf.getvalue()


def _po_bytes(cat) -> bytes:
    from babel.messages.pofile import write_po
    buf = io.BytesIO()
    write_po(buf, cat, width=100, sort_output=True, omit_header=False, include_previous=False)
    return buf.getvalue()


def _fields(text: str) -> set[str]:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError:
        return {"<malformed>"}


def seed(pkg: str, entries: list[tuple[str | None, str, str]]) -> None:
    """Adds (context, msgid, Chinese) to ``pkg``'s catalog (for converting a table of pairs);
    an entry already there keeps its translation unless it was empty. Compiles the ``.mo``."""
    cat = read(pkg)
    for ctx, msgid, zh in entries:
        have = cat.get(msgid, context=ctx)
        if have is not None and have.string:
            if have.string != zh:
                raise SystemExit(f"{pkg}: {ctx!r} {msgid!r} is already translated as {have.string!r}, not {zh!r}: "
                                 "give one of them a context (ctx=)")
            continue
        if have is not None:
            have.string = zh          # Catalog.add keeps an existing entry's (empty) text
        else:
            cat.add(msgid, zh, context=ctx)
    write(pkg, cat)


def write(pkg: str, cat) -> None:
    from govcloud.base.atomic import write_atomic
    PO_DIR.mkdir(parents=True, exist_ok=True)
    write_atomic(po_path(pkg), _po_bytes(cat))
    write_atomic(po_path(pkg).with_suffix(".mo"), _mo_bytes(cat))


def check(found: dict[str, Found] | None = None) -> list[str]:
    """Every way the catalogs and the source disagree, one line each; empty when they agree."""
    found = extract() if found is None else found
    problems: list[str] = []
    zh_of: dict[Key, dict[str, str]] = defaultdict(dict)
    pkgs = set(found) | {p.stem for p in PO_DIR.glob("*.po")}
    for pkg in sorted(pkgs):
        box = found.get(pkg, Found())
        problems += box.errors
        cat = read(pkg)
        have = {(m.context, m.id): m for m in cat if m.id}
        for key, where in sorted(box.locations.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
            ctx, msgid = key
            m = have.get(key)
            at = f"{where[0][0]}:{where[0][1]}"
            if m is None or not m.string:
                problems.append(f"{at}: no Chinese translation of {msgid!r}"
                                + (f" (context {ctx})" if ctx else "") + f" in {po_path(pkg).name}")
                continue
            if m.fuzzy:
                problems.append(f"{at}: the translation of {msgid!r} is marked fuzzy in {po_path(pkg).name}")
            if _fields(msgid) != _fields(m.string):
                problems.append(f"{at}: {msgid!r} and its translation {m.string!r} name different placeholders")
            zh_of[key][pkg] = m.string
        for key in sorted(set(have) - set(box.locations), key=lambda k: (k[0] or "", k[1])):
            problems.append(f"{po_path(pkg).name}: {key[1]!r}" + (f" (context {key[0]})" if key[0] else "")
                            + " is no longer used by the source (run update)")
        mo = po_path(pkg).with_suffix(".mo")
        if po_path(pkg).exists() and (not mo.exists() or mo.read_bytes() != _mo_bytes(cat)):
            problems.append(f"{mo.name} is not compiled from {po_path(pkg).name} (run update)")
    for key, by_pkg in sorted(zh_of.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        if len(set(by_pkg.values())) > 1:
            problems.append(f"{key[1]!r} is translated differently in {', '.join(f'{p}.po: {s!r}' for p, s in sorted(by_pkg.items()))}")
    return problems


def update() -> None:
    found = extract()
    errors = [e for box in found.values() for e in box.errors]
    if errors:
        raise SystemExit("\n".join(errors))
    known: dict[Key, str] = {}
    for po in PO_DIR.glob("*.po"):
        for m in read(po.stem):
            if m.id and m.string and not m.fuzzy:
                known.setdefault((m.context, m.id), m.string)
    for pkg in sorted(set(found) | {p.stem for p in PO_DIR.glob("*.po")}):
        box = found.get(pkg, Found())
        old = read(pkg)
        cat = new_catalog(pkg)
        for (ctx, msgid), where in box.locations.items():
            m = old.get(msgid, context=ctx)
            zh = m.string if m is not None and m.string else known.get((ctx, msgid), "")
            cat.add(msgid, zh, locations=[(f, n) for f, n in where if n], context=ctx,
                    flags=("python-brace-format",) if _fields(msgid) else ())
        if len(cat) or po_path(pkg).exists():
            if not box.locations:
                po_path(pkg).unlink(missing_ok=True)
                po_path(pkg).with_suffix(".mo").unlink(missing_ok=True)
            else:
                write(pkg, cat)


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "check"
    if cmd == "update":
        update()
        cmd = "check"
    if cmd == "check":
        problems = check()
        for p in problems:
            print(p)
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
