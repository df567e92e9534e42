"""Malformed input gets a clear error with file and line, exit 1 — never a traceback, crash or hang.

Each case runs the real ``govcloud`` command in a subprocess: a crash inside
libyaml (deep nesting overflows its C stack) would otherwise take pytest down too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from govcloud.base.reader import Document, ReadFailure, read_document

from invtree import write_inventory_tree


def run_validate(path: Path, *extra: str, timeout: float = 60) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "govcloud", "inventory", "validate", str(path),
                           "--output", "json", *extra],
                          capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def bad_file(tmp_path: Path, content: bytes, name: str = "departments/bad.yaml") -> Path:
    root = write_inventory_tree(tmp_path / "inv")
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return root


BILLION_LAUGHS = b"""format_version: 1
x_a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
x_b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
x_c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
x_d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
x_e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
x_f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
x_g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
x_h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
systems: *h
"""

CASES = {
    "gbk": ("format_version: 1\nsystems:\n  - id: a\n    name: 不动产登记系统\n".encode("gbk"), "encoding", 4),
    "utf16": ("format_version: 1\n".encode("utf-16"), "encoding", None),
    "empty": (b"", "empty-file", None),
    "only-comments": (b"# nothing here yet\n\n# still nothing\n", "empty-file", None),
    "list-at-top": (b"- id: a\n- id: b\n", "wrong-type", 1),
    "scalar-at-top": (b"just some text\n", "wrong-type", 1),
    "section-is-mapping": (b"format_version: 1\nservers:\n  id: a\n  hostname: b\n", "wrong-type", 2),
    "item-is-scalar": (b"format_version: 1\nservers:\n  - srv-01\n", "wrong-type", 3),
    "tabs": (b"format_version: 1\nservers:\n\t- id: a\n", "yaml-syntax", 3),
    "unclosed-flow": (b"format_version: 1\nservers:\n  - {id: a, hostname: b\n", "yaml-syntax", 4),
    "nul-bytes": (b"format_version: 1\n\x00\x00\x00", "encoding", None),
    "alias-bomb": (BILLION_LAUGHS, "alias-bomb", None),
    "deep-flow": (b"format_version: 1\nx_deep: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "too-deep", None),
    "deep-block": (b"format_version: 1\nx_deep:\n" + b"- " * 50_000 + b"x\n", "too-deep", None),
    "bad-version": (b"format_version: 7\nservers: []\n", "format-version", 1),
    "unknown-section": (b"format_version: 1\nsytems: []\n", "unknown-section", 2),
    # a machine-written file that lost its end: the JSON parser fails, YAML then reports the line
    "truncated-json": (b'{"format_version": 1, "servers": [\n  {"id": "a", "hostname": "h"},\n', "yaml-syntax", 3),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_file_is_a_clear_error(tmp_path: Path, case: str) -> None:
    content, code, line = CASES[case]
    rc, out = run_validate(bad_file(tmp_path, content))
    assert rc == 1
    found = [p for p in out["problems"] if p["code"] == code]
    assert found, out["problems"]
    assert found[0]["file"] == "departments/bad.yaml"
    if line is not None:
        assert found[0]["line"] == line
    # the rest of the inventory was still read: a bad file does not hide the others
    assert out["files"] >= 4


def test_gbk_file_gets_a_conversion_hint(tmp_path: Path) -> None:
    _, out = run_validate(bad_file(tmp_path, CASES["gbk"][0]))
    p = next(p for p in out["problems"] if p["code"] == "encoding")
    assert "GB18030" in p["hint"] and "iconv" in p["hint"]


def test_hundred_megabyte_file_is_refused_quickly(tmp_path: Path) -> None:
    root = write_inventory_tree(tmp_path / "inv")
    big = root / "departments" / "huge.yaml"
    row = b"  - {id: s, hostname: h, cores: 1, ram_gb: 1, os_distribution: centos}\n"
    with big.open("wb") as fh:
        fh.write(b"format_version: 1\nservers:\n")
        chunk = row * 10_000
        for _ in range(100 * 1024 * 1024 // len(chunk) + 1):
            fh.write(chunk)
    assert big.stat().st_size > 100 * 1024 * 1024
    rc, out = run_validate(root, timeout=30)
    assert rc == 1
    p = next(p for p in out["problems"] if p["code"] == "file-too-large")
    assert p["file"] == "departments/huge.yaml" and "--max-file-mb" in p["hint"]


def test_missing_root_file_and_missing_path(tmp_path: Path) -> None:
    root = write_inventory_tree(tmp_path / "inv")
    (root / "inventory.yaml").unlink()
    rc, out = run_validate(root)
    assert rc == 1 and "no-root-file" in [p["code"] for p in out["problems"]]
    rc, out = run_validate(tmp_path / "nowhere")
    assert rc == 1 and [p["code"] for p in out["problems"]] == ["not-found"]


def test_root_file_needs_format_version(tmp_path: Path) -> None:
    root = write_inventory_tree(tmp_path / "inv", {"inventory.yaml": "inventory: {name: x}\n"})
    rc, out = run_validate(root)
    p = next(p for p in out["problems"] if p["code"] == "format-version")
    assert rc == 1 and p["file"] == "inventory.yaml" and "format_version: 1" in p["hint"]


def test_json_lines_style_is_read_by_the_json_parser(tmp_path: Path) -> None:
    path = tmp_path / "servers.yaml"
    path.write_text('{\n"format_version": 1,\n"servers": [\n  {"id": "a", "hostname": "h", "cores": 2, '
                    '"ram_gb": 4, "os_distribution": "centos"}\n]\n}\n', encoding="utf-8")
    doc = read_document(path)
    assert isinstance(doc, Document) and doc.via == "json"
    assert doc.data["servers"][0]["cores"] == 2


def test_block_yaml_keeps_dates_as_text_so_impossible_dates_are_field_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("format_version: 1\nfreeze_windows:\n  - {id: f, name: n, start: 2019-02-30, end: 2019-03-01}\n",
                    encoding="utf-8")
    doc = read_document(path)
    assert isinstance(doc, Document) and doc.via == "yaml"
    assert doc.data["freeze_windows"][0]["start"] == "2019-02-30"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\xef\xbb\xbfformat_version: 1\n")
    doc = read_document(path)
    assert not isinstance(doc, ReadFailure) and doc.data == {"format_version": 1}
