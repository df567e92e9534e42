"""Property-based fuzzing of every reader (issue 13): whatever the bytes, a reader gives a result
(with its problems located: file, and line/row where the format has lines) or raises the
project's own error (GovcloudError: one clear line, a documented exit code) — never another
exception, which the CLI would turn into exit 70 — and it does so in bounded time.

Readers: inventory files (YAML and JSON, structured and as mutated text), plan.yaml,
approval.yaml, journal.jsonl (migrate's replay and the report's reader), the census form (CSV
and XLSX), RVTools (XLSX and CSV), NetBox JSON, Ansible inventories (INI, YAML, JSON), the AWS,
Azure and Google Cloud CSVs, compliance findings JSON and the govcloud JSON export. Imports run
their whole dry run (parse, change set, validation of the would-be inventory) on a share of the
examples. Hand-picked hostile cases from the issue come first as explicit examples; a few CLI
cases run as subprocesses, under a memory limit, to check the exit code and that no traceback
reaches the screen.

Examples per reader: ``FUZZ_EXAMPLES`` (default 20; e.g. GOVCLOUD_FUZZ_EXAMPLES=500 for a long
run); the counts of a run are printed at the end of the module (``-s``).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st

from govcloud.errors import GovcloudError

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "inventories" / "sample-workload"
FUZZ_EXAMPLES = int(os.environ.get("GOVCLOUD_FUZZ_EXAMPLES", "20"))
TIME_LIMIT = 20.0          # seconds per example, generous for a loaded 2-core CI machine
CORPUS: Counter[str] = Counter()

FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
                phases=(Phase.explicit, Phase.generate, Phase.shrink),
                suppress_health_check=list(HealthCheck))
FEWER = settings(FUZZ, max_examples=max(5, FUZZ_EXAMPLES // 3))


@pytest.fixture(scope="module", autouse=True)
def _report_corpus():
    yield
    total = sum(CORPUS.values())
    print(f"\nfuzz corpus: {total} examples — " + ", ".join(f"{k} {v}" for k, v in sorted(CORPUS.items())))


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def run_reader(name: str, fn: Callable[[], Any]) -> Any:
    """Call a reader: its result, or None when it raised GovcloudError (with a message). Any other
    exception fails the test, as does taking longer than TIME_LIMIT."""
    CORPUS[name] += 1
    started = time.monotonic()
    try:
        result = fn()
    except GovcloudError as exc:
        assert str(exc).strip(), f"{name}: an error without a message"
        result = None
    elapsed = time.monotonic() - started
    assert elapsed < TIME_LIMIT, f"{name}: {elapsed:.1f}s for one input"
    return result


def assert_located(problems, what: str) -> None:
    for p in problems:
        if p.is_error:
            assert p.file, f"{what}: error without a file: {p}"
            assert p.message, f"{what}: error without a message: {p}"


# ---------------------------------------------------------------- value strategies

NASTY = [
    "", " ", "0", "-1", "1e400", "-1e400", "NaN", ".nan", ".inf", "9" * 4400, "2019-02-30", "2019年13月",
    "201812月底", "=1+1", "=HYPERLINK(\"http://x\")", "@SUM(A1)", "null", "~", "yes", "on", "0x1F", "0o17",
    "1_000", "../../etc/passwd", "a" * 300, "卫计局", "10.0.0.1", "10.0.0.1/33", "::1", "[]", "{}", "*a",
    "&a", "!!python/object/apply:os.system ['true']", "!vault |", "%", "'", '"', "\\", "|", ">", "- x", "? x",
    "key: value", "\t", "\r\n", "\u2028", "\ufeff", "\x7f", "<script>", "$(reboot)", "${HOME}", "{{ lookup('x') }}",
    "1:2", "h[1:3]", "h[a:c]", "h[1:99999999]", "h[0:9:0]",
]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12), st.sampled_from(NASTY),
)


def values(keys: list[str], leaves: int = 16) -> st.SearchStrategy:
    key = st.one_of(st.sampled_from(keys), st.text(max_size=6))
    return st.recursive(scalars, lambda ch: st.lists(ch, max_size=4) | st.dictionaries(key, ch, max_size=5),
                        max_leaves=leaves)


def json_safe(v: Any) -> Any:
    """JSON has no NaN/Infinity literals in strict readers' eyes, but Python writes them: keep
    them (readers must cope), only make keys text."""
    if isinstance(v, dict):
        return {str(k): json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [json_safe(x) for x in v]
    return v


def dump(v: Any, as_json: bool) -> str:
    if as_json:
        return json.dumps(json_safe(v), ensure_ascii=False)
    return yaml.safe_dump(json_safe(v), allow_unicode=True, sort_keys=False)


@st.composite
def mutated(draw, base: str) -> str:
    """A text with a few random edits: insertions of YAML/CSV/INI-significant characters, deletions,
    duplicated or swapped lines."""
    text = base
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "dup", "replace"]))
        n = len(text)
        pos = draw(st.integers(0, n))
        if op == "insert":
            ins = draw(st.one_of(st.sampled_from(list(":-[]{}&*!|>'\"#%@`,\t\n\r\\= ;") + NASTY),
                                 st.text(max_size=4)))
            text = text[:pos] + ins + text[pos:]
        elif op == "delete" and n:
            text = text[:pos] + text[pos + draw(st.integers(1, 20)):]
        elif op == "dup":
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            text = "\n".join(lines)
        elif n:
            text = text[:pos] + draw(st.sampled_from(NASTY)) + text[pos + 1:]
    return text


# ---------------------------------------------------------------- inventory files


def _entity_keys() -> list[str]:
    from govcloud.model.entities import SECTION_BY_KEY
    keys = set(SECTION_BY_KEY)
    for section in SECTION_BY_KEY.values():
        if dataclasses.is_dataclass(section.cls):
            keys.update(f.name for f in dataclasses.fields(section.cls))
    return sorted(keys | {"format_version", "inventory", "x_extra", "id", "from", "to"})


ENTITY_KEYS = _entity_keys()


@st.composite
def inventory_documents(draw) -> str:
    from govcloud.model.entities import SECTION_BY_KEY
    doc: dict[str, Any] = {"format_version": draw(st.sampled_from([1, 1, 1, 2, "1", None]))}
    for section in draw(st.lists(st.sampled_from(sorted(SECTION_BY_KEY)), max_size=3, unique=True)):
        cls = SECTION_BY_KEY[section].cls
        names = [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else ["id"]
        records = []
        for _ in range(draw(st.integers(0, 3))):
            rec = {"id": draw(st.one_of(st.text(min_size=1, max_size=8), scalars))}
            for name in draw(st.lists(st.sampled_from(names), max_size=6, unique=True)):
                rec[name] = draw(values(ENTITY_KEYS, 6))
            records.append(rec)
        doc[section] = draw(st.one_of(st.just(records), values(ENTITY_KEYS, 4)))
    return dump(doc, draw(st.booleans()))


@pytest.fixture(scope="module")
def inv_root(work) -> Path:
    root = work / "inv"
    shutil.copytree(SAMPLE, root)
    return root


def _validate(root: Path, name: str) -> None:
    from govcloud.inventory.validate import validate_path
    result = run_reader(name, lambda: validate_path(root))
    assert result is not None, "validate_path reports problems, it does not raise"
    assert_located(result.problems, name)


@FUZZ
@given(text=inventory_documents())
@example(text="format_version: 1\nx_a: &a [*a]\n")
@example(text="format_version: 1\nservers:\n  - id: a\n    cores: " + "9" * 4400 + "\n")
@example(text='{"format_version": 1, "servers": [{"id": "a", "cores": ' + "9" * 4400 + "}]}")
@example(text="format_version: 1\nx: " + "[" * 100_000 + "]" * 100_000 + "\n")
@example(text="format_version: 1\nx:\n" + "- " * 20_000 + "x\n")
@example(text="format_version: 1\n" + "\n".join(f"x_{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]" if i else
                                                 "x_0: &a0 [1, 2, 3]" for i in range(30)))
@example(text="format_version: 1\nservers: &s [{id: a, hostname: *s}]\n")
@example(text="format_version: 1\nsystems:\n  - {id: s, servers: [" + ", ".join(["x"] * 5000) + "]}\n")
@example(text="format_version: 1\nservers:\n  - {id: a, hostname: b, cores: .inf, ram_gb: .nan}\n")
@example(text="format_version: 1\nservers:\n  - {id: a, hostname: b, census_missing: cores}\n"
              "  - {id: c, hostname: c, census_missing: [[cores], {a: 1}, null, 1e400, ram_gb, ram_gb]}\n"
              "  - {id: d, hostname: d, census_missing: [cores, ram_gb, os_distribution, cpu_arch], cores: 0}\n"
              "observations:\n  - {source: 'discovery:ssh', server: d, facts: {cores: .nan, ram_gb: [1], "
              "os_distribution: {x: 1}, cpu_arch: 99}}\n")
@example(text='format_version: 1\nexecution_nodes:\n  - {id: n, address: "198.18.1.68; rm -rf /", user: "-oProxyCommand=x", '
              'runner: "/a/../b", work_dir: "relative", host_key: "ssh-ed25519 AAAA\\n@cert-authority * x", port: 0, '
              'cloud_zones: [[x]], organizations: {a: 1}}\n  - {id: n}\n  - [1]\n')
def test_inventory_file_structured(inv_root, text):
    (inv_root / "departments" / "fuzz.yaml").write_text(text, encoding="utf-8")
    try:
        _validate(inv_root, "inventory (structured)")
    finally:
        (inv_root / "departments" / "fuzz.yaml").unlink()


DEPT = SAMPLE / "departments" / "shujuju.yaml"


@FUZZ
@given(text=mutated(DEPT.read_text(encoding="utf-8")), root_file=st.booleans())
def test_inventory_file_mutated(inv_root, text, root_file):
    target = inv_root / ("inventory.yaml" if root_file else "departments/shujuju.yaml")
    original = (SAMPLE / target.relative_to(inv_root)).read_bytes()
    try:
        target.write_text(text if not root_file else text.replace("servers:", "x_servers:", 1), encoding="utf-8")
        _validate(inv_root, "inventory (mutated text)")
    finally:
        target.write_bytes(original)


# ---------------------------------------------------------------- inventory folders


def test_inventory_folder_hazards_are_reported_not_skipped(inv_root, tmp_path, monkeypatch):
    """A folder that cannot be listed or entered, a dangling symlink, a symlink loop, a link out
    of the inventory and an upper-case .YAML file: each is an error naming it (as root, permissions
    do not bite, so the unlistable folder is emulated)."""
    from govcloud.inventory.validate import validate_path
    root = tmp_path / "inv"
    shutil.copytree(SAMPLE, root)
    d = root / "departments"
    (d / "locked").mkdir()
    (d / "locked" / "x.yaml").write_text("format_version: 1\n")
    (d / "dangling.yaml").symlink_to("nowhere.yaml")
    (d / "loop1.yaml").symlink_to("loop2.yaml")
    (d / "loop2.yaml").symlink_to("loop1.yaml")
    (d / "outside.yaml").symlink_to("/etc/hostname")
    (d / "UPPER.YAML").write_text("format_version: 1\n")
    real_scandir = os.scandir

    def scandir(path="."):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = validate_path(root)
    found = {(p.code, p.file) for p in result.errors}
    assert ("unreadable-folder", "departments/locked/") in found
    assert ("dangling-symlink", "departments/dangling.yaml") in found
    assert ("symlink-loop", "departments/loop1.yaml") in found
    assert ("symlink-outside", "departments/outside.yaml") in found
    assert ("suffix-case", "departments/UPPER.YAML") in found


def test_unreadable_departments_folder_fails_validation(tmp_path, monkeypatch):
    from govcloud.inventory.validate import validate_path
    root = tmp_path / "inv"
    shutil.copytree(SAMPLE, root)
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path=".": (_ for _ in ()).throw(
        PermissionError(13, "Permission denied", str(path))) if str(path).endswith("departments")
        else real_scandir(path))
    result = validate_path(root)
    assert [p.code for p in result.errors] == ["unreadable-folder"]


def test_unreadable_inventory_file_is_an_error(tmp_path, monkeypatch):
    from govcloud.inventory.validate import validate_path
    root = tmp_path / "inv"
    shutil.copytree(SAMPLE, root)
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "policy.yaml":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = validate_path(root)
    assert ("unreadable", "policy.yaml") in {(p.code, p.file) for p in result.errors}


# ---------------------------------------------------------------- plan.yaml and approval.yaml


@pytest.fixture(scope="module")
def plan_text(work) -> str:
    out = work / "plans"
    p = subprocess.run([sys.executable, "-m", "govcloud", "plan", "generate", str(SAMPLE), "--out", str(out),
                        "--id", "fuzz"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert p.returncode == 0, p.stderr
    return (out / "fuzz" / "plan.yaml").read_text(encoding="utf-8")


def _paths(v: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(v, dict):
        for k, x in v.items():
            out += _paths(x, prefix + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            out += _paths(x, prefix + (i,))
    return out


@st.composite
def plan_edits(draw, text: str) -> str:
    data = json.loads(text)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        where = draw(st.sampled_from(paths))
        parent = data
        for step in where[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(where[-1], None)
        else:
            parent[where[-1]] = draw(values(["id", "servers", "strategy", "start", "flavor"], 4))
    return json.dumps(json_safe(data), ensure_ascii=False)


PLAN_DIR_EXAMPLES = [('"plan_id": 5', "plan_id"), ('"inventory": null', "inventory")]


def _read_plan(plan_dir: Path, name: str, commands: bool = False) -> None:
    from govcloud.store.approval import read_signatures
    from govcloud.store.planfile import read_plan
    plan = run_reader(name, lambda: read_plan(plan_dir))
    if plan is not None:
        run_reader("approval.yaml", lambda: read_signatures(plan_dir / "plan.yaml"))
        if commands:     # what people run on a plan that reads: none may end in an internal error
            for args in (["plan", "show", str(plan_dir), "-o", "json"], ["plan", "validate", str(plan_dir)],
                         ["migrate", "status", str(plan_dir)],
                         ["report", str(plan_dir), "--out", str(plan_dir / "r.md"), "--format", "md"]):
                assert cli_in_process(args) != 70, args


def cli_in_process(args: list[str]) -> int:
    from contextlib import redirect_stderr, redirect_stdout

    from govcloud.cli.app import main
    CORPUS["plan commands"] += 1
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        try:
            main(args)
        except SystemExit as exc:
            return int(exc.code or 0)
    return 0


@pytest.mark.parametrize("edit,field", PLAN_DIR_EXAMPLES)
def test_plan_fields_of_the_wrong_type_are_located(work, plan_text, edit, field):
    from govcloud.store.planfile import read_plan
    d = work / "plan-types"
    d.mkdir(exist_ok=True)
    key = edit.split(":")[0]
    lines = [edit + "," if ln.startswith(key + ":") else ln for ln in plan_text.splitlines()]
    (d / "plan.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(GovcloudError) as err:
        read_plan(d)
    line = next(n for n, ln in enumerate(lines, 1) if ln.startswith(key + ":"))
    assert f"plan.yaml:{line}: {field}:" in str(err.value)


def test_plan_edits(work, plan_text):
    d = work / "plan-fuzz"
    d.mkdir(exist_ok=True)

    @FUZZ
    @given(text=plan_edits(plan_text))
    def check(text):
        (d / "plan.yaml").write_text(text, encoding="utf-8")
        _read_plan(d, "plan.yaml", commands=True)

    check()


@FUZZ
@given(data=values(["plan_id", "plan_sha256", "approved_by", "approved_at", "os_user", "signatures", "scheme",
                    "key", "signature", "by", "inventory_digest"], 8),
       as_json=st.booleans())
@example(data={"plan_id": 5, "plan_sha256": None, "approved_by": [], "approved_at": {}}, as_json=True)
def test_approval_file(work, plan_text, data, as_json):
    from govcloud.store.approval import read_signatures
    d = work / "approval-fuzz"
    d.mkdir(exist_ok=True)
    (d / "plan.yaml").write_text(plan_text, encoding="utf-8")
    if isinstance(data, dict) and data and not as_json:
        data.setdefault("plan_id", "fuzz")
    (d / "approval.yaml").write_text(dump(data, as_json), encoding="utf-8")
    run_reader("approval.yaml", lambda: read_signatures(d / "plan.yaml"))


# ---------------------------------------------------------------- journal.jsonl

JOURNAL_KEYS = ["kind", "system", "to", "step", "status", "key", "resource", "removed", "at", "who", "reason",
                "run", "detail"]
STATES = ["pending", "prechecked", "provisioned", "synced", "cutover", "verified", "done", "rolled_back",
          "failed", "decommissioned", "exploded"]


@st.composite
def journal_lines(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["state", "resource", "step", "run", "other"]))
        if kind == "other":
            entry = draw(values(JOURNAL_KEYS, 6))
        else:
            entry = {"kind": kind, "system": draw(st.one_of(st.sampled_from(["app1", "app2"]), scalars))}
            if kind == "state":
                entry["to"] = draw(st.one_of(st.sampled_from(STATES), scalars))
            if kind == "resource":
                entry["key"] = draw(st.one_of(st.sampled_from(["server:h1", "security_group"]), scalars))
                entry["resource"] = draw(values(["kind", "id", "name", "address"], 4))
                entry["removed"] = draw(st.booleans())
            if kind == "step":
                entry.update(step=draw(st.one_of(st.sampled_from(["sync", "precheck"]), scalars)),
                             status=draw(st.sampled_from(["start", "ok", "fail"])))
            for k in draw(st.lists(st.sampled_from(JOURNAL_KEYS), max_size=2)):
                entry[k] = draw(scalars)
        lines.append(json.dumps(json_safe(entry), ensure_ascii=False))
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        text = draw(mutated(text))
    return text


@FUZZ
@given(text=journal_lines())
@example(text="[1]\n")
@example(text='{"kind": "state", "system": "app1", "to": "exploded"}\n')
@example(text='{"kind": "resource", "system": "app1"}\n')
@example(text="[" * 100_000 + "]" * 100_000 + "\n")
@example(text='{"kind": "state", "system": ["x"], "to": "done"}\n')
def test_journal(work, text):
    from govcloud.migrate.lifecycle import replay
    from govcloud.render.report import parse_journal
    from govcloud.store import journal
    d = work / "journal-fuzz"
    d.mkdir(exist_ok=True)
    (d / "journal.jsonl").write_text(text, encoding="utf-8")
    run_reader("journal.jsonl (migrate)", lambda: replay(journal.read(d).entries))
    run_reader("journal.jsonl (report)", lambda: parse_journal(text))


# ---------------------------------------------------------------- compliance findings


@FUZZ
@given(data=values(["host", "check_id", "status", "evidence"], 10), raw=st.one_of(st.none(), st.binary(max_size=30)))
@example(data=None, raw=b"[" * 100_000 + b"]" * 100_000)
@example(data=None, raw=b"\xff\xfe[]")
@example(data=[{"host": "h", "check_id": "c", "status": 1}], raw=None)
def test_compliance_findings(work, data, raw):
    from govcloud.usecases.report import read_findings
    f = work / "findings.json"
    f.write_bytes(raw if raw is not None else json.dumps(json_safe(data)).encode())
    run_reader("compliance findings", lambda: read_findings(f))


# ---------------------------------------------------------------- tabular imports

CELL = st.one_of(st.text(max_size=12), st.sampled_from(NASTY), st.integers(-5, 10 ** 6).map(str),
                 st.floats(allow_nan=True, allow_infinity=True).map(repr))


def _headers(kind: str) -> tuple[list[str], list[str]]:
    """(known headers, optional extra sheets' names) of a tabular format."""
    from govcloud.interchange import census, cloudcsv, rvtools
    if kind == "census":
        return [f.header("zh") for f in census.SYSTEM_FIELDS] + [f.header("en") for f in census.SYSTEM_FIELDS], []
    if kind == "census-servers":
        return [f.header("zh") for f in census.SERVER_FIELDS], []
    if kind == "rvtools":
        return [n for c in rvtools.VINFO for n in c.names], [s for s, _ in rvtools.OPTIONAL_SHEETS]
    spec = {"aws-csv": cloudcsv.AWS, "azure-csv": cloudcsv.AZURE, "gcp-csv": cloudcsv.GCP}[kind]
    return [n for c in spec for n in c.names], []


@st.composite
def table(draw, kind: str) -> list[list[str]]:
    known, _ = _headers(kind)
    headers = draw(st.lists(st.one_of(st.sampled_from(known), st.text(max_size=6)), min_size=1, max_size=10))
    rows = [headers]
    for _ in range(draw(st.integers(0, 5))):
        rows.append(draw(st.lists(CELL, max_size=len(headers) + 2)))
    return rows


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("utf-8", "surrogatepass")


def _parse(fmt: str, path: Path, name: str) -> None:
    from govcloud.interchange import formats
    result = run_reader(name, lambda: formats.parse(fmt, path))
    if result is not None:
        assert_located(result.problems, name)


def _dry_run_import(fmt: str, path: Path, work: Path, name: str) -> None:
    """The whole import as `inventory import --dry-run` runs it, into a copy of a valid inventory."""
    from govcloud.interchange.importer import run_import
    into = work / "import-into"
    if not into.exists():
        shutil.copytree(SAMPLE, into)
    before = sorted(p.relative_to(into).as_posix() for p in into.rglob("*"))
    out = run_reader(name + " (dry-run import)", lambda: run_import(fmt, path, into, dry_run=True))
    if out is not None:
        assert_located(out.problems, name)
    assert sorted(p.relative_to(into).as_posix() for p in into.rglob("*")) == before


CSV_FORMATS = ["census", "aws-csv", "azure-csv", "gcp-csv", "rvtools"]


@pytest.mark.parametrize("fmt", CSV_FORMATS)
def test_csv_tables(work, fmt):
    @FUZZ
    @given(rows=table(fmt), mangle=st.one_of(st.none(), st.binary(min_size=1, max_size=8)), full=st.integers(0, 3))
    def check(rows, mangle, full):
        f = work / f"{fmt}.csv"
        data = _csv_bytes(rows)
        if mangle is not None:
            at = len(data) // 2
            data = data[:at] + mangle + data[at:]
        f.write_bytes(data)
        _parse(fmt, f, f"{fmt} CSV")
        if full == 0:
            _dry_run_import(fmt, f, work, f"{fmt} CSV")

    check()


@pytest.mark.parametrize("fmt", ["census", "aws-csv"])
def test_csv_cell_over_128_kib(work, fmt):
    known, _ = _headers(fmt)
    f = work / f"big-{fmt}.csv"
    f.write_bytes(_csv_bytes([known[:3], ["x" * 200_000, "y", "z"]]))
    _parse(fmt, f, f"{fmt} CSV")


@st.composite
def workbook(draw, kind: str) -> bytes:
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    if kind == "census":
        from govcloud.interchange import census
        ws.title = census.SYSTEMS_SHEET[0]
        sheets = [(ws, "census")]
        if draw(st.booleans()):
            sheets.append((wb.create_sheet(census.SERVERS_SHEET[0]), "census-servers"))
    else:
        ws.title = draw(st.sampled_from(["vInfo", "vInfo", "tabvInfo", "vinfo", "Sheet"]))
        sheets = [(ws, "rvtools")]
        _, extra = _headers("rvtools")
        for name in draw(st.lists(st.sampled_from(extra), max_size=3, unique=True)):
            sheets.append((wb.create_sheet(name), "rvtools"))
    xcell = st.one_of(CELL, st.integers(-(2 ** 40), 2 ** 40), st.floats(allow_nan=False, allow_infinity=False),
                      st.booleans(), st.sampled_from(["=1/0", "=A1", "=SUM(A1:A9)"]), st.none())
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def legal(v: Any) -> Any:      # characters XML 1.0 cannot carry: openpyxl refuses to write them
        return ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v

    for sheet, k in sheets:
        for row in draw(table(k)):
            sheet.append([legal(draw(xcell) if draw(st.integers(0, 3)) == 0 else c) for c in row])
        if draw(st.integers(0, 4)) == 0:
            sheet.merge_cells("A2:B3")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["census", "rvtools"])
def test_xlsx_tables(work, fmt):
    @FEWER
    @given(data=workbook(fmt), full=st.integers(0, 3))
    def check(data, full):
        f = work / f"{fmt}.xlsx"
        f.write_bytes(data)
        _parse(fmt, f, f"{fmt} XLSX")
        if full == 0:
            _dry_run_import(fmt, f, work, f"{fmt} XLSX")

    check()


@pytest.mark.parametrize("fmt", ["census", "rvtools"])
def test_xlsx_bytes_mangled(work, fmt):
    """A real workbook with bytes changed inside its zip: a damaged file, not a crash."""
    from openpyxl import Workbook
    wb = Workbook()
    wb.active.title = "vInfo" if fmt == "rvtools" else "信息系统普查表"
    wb.active.append(["VM", "CPUs", "Memory"] if fmt == "rvtools" else ["系统名称*", "主管部门*"])
    wb.active.append(["vm1", 2, 4096] if fmt == "rvtools" else ["甲", "乙"])
    buf = io.BytesIO()
    wb.save(buf)
    base = buf.getvalue()

    @FEWER
    @given(at=st.integers(0, len(base) - 1), junk=st.binary(min_size=1, max_size=16))
    def check(at, junk):
        f = work / f"mangled-{fmt}.xlsx"
        f.write_bytes(base[:at] + junk + base[at + len(junk):])
        _parse(fmt, f, f"{fmt} XLSX (mangled)")

    check()


# ---------------------------------------------------------------- NetBox

NETBOX_KEYS = ["results", "count", "next", "url", "id", "name", "display", "status", "value", "label",
               "primary_ip4", "primary_ip", "address", "vcpus", "memory", "disk", "site", "tenant", "role",
               "platform", "custom_fields", "tags", "cluster", "device_type", "model", "manufacturer",
               "virtual_machine", "device", "assigned_object", "serial", "rack", "comments", "pk", "fields",
               "assigned_object_type", "assigned_object_id", "scope_type", "scope_id", "display_url",
               "primary_mac_address", "rack_type", "object_type"]


@st.composite
def netbox_docs(draw) -> Any:
    def obj():
        o = draw(st.dictionaries(st.sampled_from(NETBOX_KEYS), values(NETBOX_KEYS, 4), max_size=8))
        o["url"] = draw(st.sampled_from(["http://nb/api/virtualization/virtual-machines/1/",
                                         "http://nb/api/dcim/devices/2/", "http://nb/api/ipam/ip-addresses/3/",
                                         "http://nb/api/dcim/sites/4/", "/api/x/", "nope"]))
        return o
    items = [obj() for _ in range(draw(st.integers(0, 4)))]
    shape = draw(st.integers(0, 3))
    if shape == 0:
        return {"count": len(items), "results": items}
    if shape == 1:
        return items
    if shape == 2:
        return {draw(st.sampled_from(["virtual_machines", "devices", "ip_addresses", "sites", "x"])):
                {"results": items}}
    return [{"model": draw(st.sampled_from(["dcim.device", "virtualization.virtualmachine", "ipam.ipaddress",
                                            "tenancy.tenant", "dcim.site", "virtualization.cluster",
                                            "dcim.interface", "contenttypes.contenttype", "dcim.macaddress",
                                            "tenancy.contactassignment"])),
             "pk": draw(scalars), "fields": draw(values(NETBOX_KEYS, 6))} for _ in range(draw(st.integers(1, 3)))]


@FUZZ
@given(doc=netbox_docs(), full=st.integers(0, 3))
@example(doc=[[[[[]]]]], full=1)
def test_netbox(work, doc, full):
    f = work / "netbox.json"
    f.write_text(json.dumps(json_safe(doc), ensure_ascii=False), encoding="utf-8")
    _parse("netbox", f, "NetBox JSON")
    if full == 0:
        _dry_run_import("netbox", f, work, "NetBox JSON")


def test_netbox_deep(work):
    f = work / "netbox-deep.json"
    f.write_text("[" * 100_000 + "]" * 100_000)
    _parse("netbox", f, "NetBox JSON")


# ---------------------------------------------------------------- Ansible

ANSIBLE_KEYS = ["all", "hosts", "children", "vars", "_meta", "hostvars", "ansible_host", "ansible_port",
                "ansible_user", "ansible_distribution", "ansible_distribution_version", "ansible_processor_vcpus",
                "ansible_memtotal_mb", "ansible_default_ipv4", "address", "web", "db", "h1", "h2", "ungrouped",
                "plugin", "os", "os_version", "vcpus", "cpus", "memory", "ram_mb", "memory_gb", "ram",
                "arch", "cpu_arch", "architecture", "ansible_architecture", "census_missing"]


@st.composite
def ini_text(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.integers(0, 5))
        if kind == 0:
            lines.append(f"[{draw(st.sampled_from(['web', 'db', 'all', 'x y', '']))}"
                         f"{draw(st.sampled_from(['', ':children', ':vars', ':bogus']))}]")
        elif kind in (1, 2):
            host = draw(st.sampled_from(["h1", "h2", "web[01:03]", "db-[a:c]", "10.0.0.1", "h[1:9999999]",
                                         "h[5:1]", "[::1]:22", "h:99999"]))
            pairs = [f"{draw(st.sampled_from(ANSIBLE_KEYS))}={draw(st.sampled_from(NASTY + ['1', 'x']))}"
                     for _ in range(draw(st.integers(0, 3)))]
            lines.append(" ".join([host, *pairs]))
        elif kind == 3:
            lines.append(f"{draw(st.sampled_from(ANSIBLE_KEYS))}={draw(st.sampled_from(NASTY))}")
        elif kind == 4:
            lines.append(draw(st.text(max_size=20)).replace("\x00", ""))
        else:
            lines.append(draw(st.sampled_from(["# comment", ";x", "", "   "])))
    return "\n".join(lines) + "\n"


@st.composite
def ansible_structured(draw) -> tuple[str, str]:
    doc: dict[str, Any] = {}
    if draw(st.booleans()):
        doc["all"] = draw(st.fixed_dictionaries({}, optional={
            "hosts": st.dictionaries(st.sampled_from(["h1", "h2", "10.0.0.1"]), values(ANSIBLE_KEYS, 6), max_size=3),
            "children": values(ANSIBLE_KEYS, 8), "vars": values(ANSIBLE_KEYS, 6)}))
    else:
        doc = draw(values(ANSIBLE_KEYS, 12))
    as_json = draw(st.booleans())
    if as_json and isinstance(doc, dict) and draw(st.booleans()):
        doc["_meta"] = {"hostvars": draw(st.dictionaries(st.sampled_from(["h1", "h2"]),
                                                         values(ANSIBLE_KEYS, 6), max_size=3))}
    return dump(doc, as_json), ".json" if as_json else ".yml"


@FUZZ
@given(text=ini_text(), full=st.integers(0, 3))
def test_ansible_ini(work, text, full):
    f = work / "hosts.ini"
    f.write_text(text, encoding="utf-8")
    _parse("ansible", f, "Ansible INI")
    if full == 0:
        _dry_run_import("ansible", f, work, "Ansible INI")


@FUZZ
@given(doc=ansible_structured(), full=st.integers(0, 3))
@example(doc=("all:\n  vars: {a: &a [*a]}\n  hosts: {h1: {}}\n", ".yml"), full=1)
@example(doc=("[" * 100_000 + "]" * 100_000, ".json"), full=1)
@example(doc=("{" * 100_000 + "}" * 100_000, ".json"), full=1)
def test_ansible_structured(work, doc, full):
    text, suffix = doc
    f = work / f"inventory{suffix}"
    f.write_text(text, encoding="utf-8")
    _parse("ansible", f, "Ansible " + suffix[1:].upper())
    if full == 0:
        _dry_run_import("ansible", f, work, "Ansible " + suffix[1:].upper())


@FEWER
@given(vars_doc=values(ANSIBLE_KEYS, 10), as_json=st.booleans())
def test_ansible_group_vars(work, vars_doc, as_json):
    d = work / "ansible-dir"
    shutil.rmtree(d, ignore_errors=True)
    (d / "group_vars").mkdir(parents=True)
    (d / "hosts.ini").write_text("[web]\nh1 ansible_host=10.0.0.1\n")
    (d / "group_vars" / ("web.json" if as_json else "web.yml")).write_text(dump(vars_doc, as_json), encoding="utf-8")
    _parse("ansible", d / "hosts.ini", "Ansible group_vars")


# ---------------------------------------------------------------- govcloud JSON export


@st.composite
def export_dirs(draw) -> list[tuple[str, str]]:
    from govcloud.interchange.govcloud_export import TABLES
    files = [("export.json", json.dumps(json_safe(draw(values(["inventory", "classified", "classified_systems"], 6)))))]
    files.append(("MANIFEST.sha256", ""))
    for n in range(draw(st.integers(1, 3))):
        rows = [draw(values(ENTITY_KEYS, 8)) for _ in range(draw(st.integers(0, 3)))]
        doc = {"table": draw(st.one_of(st.sampled_from(sorted(TABLES)), scalars)),
               "columns": draw(values(ENTITY_KEYS, 4)), "rows": rows}
        if draw(st.integers(0, 5)) == 0:
            doc = draw(values(["table", "columns", "rows"], 8))
        files.append((f"t{n}.json", json.dumps(json_safe(doc), ensure_ascii=False)))
    return files


@FUZZ
@given(files=export_dirs(), full=st.integers(0, 3))
def test_govcloud_export(work, files, full):
    d = work / "export-fuzz"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    for name, text in files:
        (d / name).write_text(text, encoding="utf-8")
    _parse("govcloud", d, "govcloud export JSON")
    if full == 0:
        _dry_run_import("govcloud", d, work, "govcloud export JSON")


def test_govcloud_export_deep(work):
    f = work / "deep-export.json"
    f.write_text("[" * 100_000 + "]" * 100_000)
    _parse("govcloud", f, "govcloud export JSON")


# ---------------------------------------------------------------- the CLI: exit codes, no traceback


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GOVCLOUD_LANG": "en", "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env=env, preexec_fn=_limit_memory)


def test_cli_hostile_inputs_exit_cleanly(tmp_path, plan_text):
    inv = tmp_path / "inv"
    shutil.copytree(SAMPLE, inv)
    plan = tmp_path / "plans" / "p"
    plan.mkdir(parents=True)
    (plan / "plan.yaml").write_text(plan_text.replace('"inventory": "', '"inventory": null, "x": "'), encoding="utf-8")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    bomb = tmp_path / "bomb.yml"
    bomb.write_text("all:\n  vars:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
                    + "".join(f"    a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9))
                    + "  hosts:\n    h1: {ansible_host: 10.0.0.1}\n")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    good_plan = tmp_path / "plans" / "good"
    good_plan.mkdir()
    (good_plan / "plan.yaml").write_text(plan_text.replace('"inventory": "', f'"inventory": "{os.path.relpath(SAMPLE, good_plan)}", "x": "'),
                                         encoding="utf-8")
    (good_plan / "journal.jsonl").write_text("[1]\n")
    cases = [
        ("plan", "show", str(plan)),
        ("inventory", "import", "--format", "ansible", str(bomb), "--into", str(inv), "--dry-run"),
        ("inventory", "import", "--format", "ansible", str(deep), "--into", str(inv), "--dry-run"),
        ("inventory", "import", "--format", "govcloud", str(deep), "--into", str(inv), "--dry-run"),
        ("plan", "generate", str(inv), "--out", str(tmp_path / "afile")),
        ("report", str(good_plan), "--out", str(tmp_path / "adir")),
        ("report", str(good_plan), "--out", str(tmp_path / "r.html"), "--compliance", str(deep)),
        ("migrate", "status", str(good_plan)),
    ]
    for args in cases:
        started = time.monotonic()
        p = _cli(*args, cwd=tmp_path)
        assert p.returncode in (1, 2), (args, p.returncode, p.stdout[-500:], p.stderr[-1500:])
        assert "Traceback" not in p.stdout + p.stderr and "internal error" not in p.stderr, (args, p.stderr[-1500:])
        assert "error" in (p.stdout + p.stderr).lower(), (args, p.stdout[-500:], p.stderr[-500:])
        assert time.monotonic() - started < 60, args


# ---------------------------------------------------------------- every field of every record, removed or mistyped


def _field_edits(base: Path) -> list[tuple[str, tuple, str]]:
    """(file, path to a record's field, edit) for every field of every record of an inventory."""
    out = []
    for f in sorted(base.rglob("*.yaml")):
        rel = f.relative_to(base).as_posix()
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        for section, records in data.items():
            if isinstance(records, list):
                for i, rec in enumerate(records):
                    if isinstance(rec, dict):
                        for key in rec:
                            out += [(rel, (section, i, key), "drop"), (rel, (section, i, key), "list")]
            elif isinstance(records, dict):
                for key in records:
                    out += [(rel, (section, key), "drop"), (rel, (section, key), "list")]
    return out


@pytest.mark.parametrize("which", ["sample-workload", "invtree"])
def test_every_field_dropped_or_mistyped(tmp_path, which):
    """A record missing any one field, or holding a list where a value belongs, is reported —
    the validator's checks run on such half-valid records too."""
    if which == "invtree":
        from invtree import write_inventory_tree
        base = write_inventory_tree(tmp_path / "base")
    else:
        base = SAMPLE
    root = tmp_path / "inv"
    shutil.copytree(base, root)
    edits = _field_edits(base)
    assert len(edits) > 50
    for rel, path, edit in edits:
        original = (base / rel).read_text(encoding="utf-8")
        data = yaml.safe_load(original)
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        if edit == "drop":
            del parent[path[-1]]
        else:
            parent[path[-1]] = [[]]
        (root / rel).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        try:
            _validate(root, "inventory (field dropped/mistyped)")
        finally:
            (root / rel).write_text(original, encoding="utf-8")
