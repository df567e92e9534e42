"""Hostile text stays text and secrets stay secret (issue 12): control characters and rich markup
from inventories and arguments, Markdown/HTML in plan.md and reports, spreadsheet formulas in CSV,
``_xHHHH_`` in XLSX, forged lines in `audit show`, credentials in auth URLs and the debug log."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from migrate_env import approve_args, write_inventory  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HOSTILE = ('<script>alert(1)</script> [/] [red]x \\e]0;pwn\\a \\e[2J \\u202eevil \\u200b | *b* '
           '[l](javascript:x) _x0041_ # h\\n## injected')


def gc(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True,
                       timeout=timeout, cwd=REPO, env={**os.environ, **(env or {})})
    assert p.returncode != 70 and "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    return p


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """An inventory whose system name carries ESC sequences, BEL, bidi and zero-width characters,
    rich markup, HTML, Markdown and a newline; and its plan."""
    tmp = tmp_path_factory.mktemp("hostile")
    inv = write_inventory(tmp / "inv", [("h43", "198.18.1.43")], ("h38", "198.18.1.38"), start="2026-11-23")
    d = inv / "departments" / "drill.yaml"
    d.write_text(d.read_text(encoding="utf-8").replace("name: 演练业务系统1", f'name: "{HOSTILE}"'), encoding="utf-8")
    p = gc("plan", "generate", str(inv), "--out", str(tmp / "plans"), "--id", "drill")
    assert p.returncode == 0, p.stderr
    return {"inv": inv, "plan": tmp / "plans" / "drill", "tmp": tmp}


def _no_terminal_controls(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text and "\u200b" not in text, repr(text)


def test_terminal_output_escapes_controls_and_never_reads_markup(hostile):
    for args in (("inventory", "list", str(hostile["inv"])),
                 ("inventory", "show", str(hostile["inv"]), "app1"),
                 ("plan", "explain", str(hostile["plan"]), "app1"),
                 ("plan", "show", str(hostile["plan"]), "--by", "department"),
                 ("plan", "validate", str(hostile["plan"]))):
        p = gc(*args, env={"COLUMNS": "400"})
        assert p.returncode == 0, (args, p.stderr)
        _no_terminal_controls(p.stdout + p.stderr)
    p = gc("plan", "explain", str(hostile["plan"]), "app1", env={"COLUMNS": "400"})
    assert "[/] [red]x" in p.stdout and "\\x1b]0;pwn\\x07" in p.stdout and "\\u202eevil" in p.stdout


def test_markup_in_arguments_prints_literally(tmp_path):
    for weird in ("[/]", "[red]x", "[bold]", "\x1b[2Jclear"):
        p = gc("plan", "show", str(tmp_path / weird))
        assert p.returncode == 1 and "错误：" in p.stderr
        _no_terminal_controls(p.stderr)
        if weird.startswith("["):
            assert weird in p.stderr
        p = gc("plan", "explain", str(tmp_path / "nope"), weird)
        assert p.returncode == 1


def test_control_characters_in_actor_by_reason_are_refused(tmp_path):
    for args in (("inventory", "export", str(tmp_path), "--format", "json", "--out", str(tmp_path / "x"),
                  "--actor", "张三\n#99  2026-01-01T00:00:00Z  root  export  forged"),
                 ("inventory", "export", str(tmp_path), "--format", "json", "--out", str(tmp_path / "x"),
                  "--reason=ok\x1b[2J"),
                 ("plan", "approve", str(tmp_path), "--by", "张三\u202e", "--key", "k")):
        p = gc(*args)
        assert p.returncode == 2 and "不含控制字符" in p.stderr, (args, p.stderr)      # Chinese by default
        p = gc(*args, "--lang", "en")
        assert p.returncode == 2 and "control characters" in p.stderr, (args, p.stderr)
        assert not (tmp_path / "x").exists()


def test_audit_show_keeps_one_line_per_entry(tmp_path):
    from govcloud.store import auditlog
    auditlog.append(tmp_path, action="export", entity={"kind": "inventory", "id": "x\n#2 forged"},
                    who={"os_user": "root", "actor": "a\nb"}, reason="r1\n#3  2026  root  delete  everything")
    p = gc("audit", "show", str(tmp_path))
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("#")]
    assert len(lines) == 1 and "\\x0a#3" in lines[0], p.stdout


def test_plan_md_and_markdown_report_escape_html_and_markdown(hostile):
    doc = (hostile["plan"] / "plan.md").read_text(encoding="utf-8")
    out = hostile["tmp"] / "r.md"
    assert gc("report", str(hostile["plan"]), "--format", "md", "--out", str(out)).returncode == 0
    for text in (doc, out.read_text(encoding="utf-8")):
        assert "<script" not in text and "[l](javascript" not in text
        assert not any(ln.startswith("## injected") for ln in text.splitlines())
        _no_terminal_controls(text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc and "\\[red\\]x" in doc and "\\*b\\*" in doc
    row = next(ln for ln in doc.splitlines() if "alert(1)" in ln)
    sep = doc.splitlines()[doc.splitlines().index(row) - 1]
    assert row.replace("\\|", "").count("|") == sep.count("|")  # the escaped "|" adds no cell
    html = hostile["tmp"] / "r.html"
    assert gc("report", str(hostile["plan"]), "--out", str(html)).returncode == 0
    assert "<script>alert(1)" not in html.read_text(encoding="utf-8")


def test_csv_neutralises_every_formula_prefix():
    from govcloud.inventory.export import _csv_value
    for prefix in ("=", "+", "-", "@", "\t", "\r", "\n", " ", "\u3000", "＝", "＋", "－", "＠"):
        assert _csv_value(prefix + "HYPERLINK(\"http://x\")") == "'" + prefix + "HYPERLINK(\"http://x\")"
    assert _csv_value("正常文本") == "正常文本" and _csv_value("-") == "-" and _csv_value(None) == ""


def test_csv_export_of_hostile_names(tmp_path):
    inv = write_inventory(tmp_path / "inv", [("h43", "198.18.1.43")], ("h38", "198.18.1.38"), start="2026-11-23")
    d = inv / "departments" / "drill.yaml"
    d.write_text(d.read_text(encoding="utf-8").replace("name: 演练业务系统1", 'name: "＝cmd|\' /C calc\'!A0"'),
                 encoding="utf-8")
    assert gc("inventory", "export", str(inv), "--format", "csv", "--out", str(tmp_path / "x")).returncode == 0
    text = (tmp_path / "x" / "systems.csv").read_text(encoding="utf-8-sig")
    assert "'＝cmd" in text and ",＝cmd" not in text


def test_xlsx_keeps_literal_escape_sequences():
    import openpyxl
    from govcloud.inventory.xlsxstream import Sheet, write_workbook, xml_text
    assert xml_text("_x0041_") == "_x005F_x0041_"
    assert xml_text("a\x01b") == "a_x0001_b" and xml_text("plain_x_text") == "plain_x_text"
    buf = io.BytesIO()
    write_workbook(buf, [Sheet("s", ["name"], [["_x0041_"], ["ctl\x01"]], 2)])
    buf.seek(0)
    values = [c.value for c in openpyxl.load_workbook(buf)["s"]["A"]]
    assert values == ["name", "_x0041_", "ctl_x0001_"]


# ---------------------------------------------------------------- secrets

SECRET = "Pa55-w0rd-XYZZY"


def test_scrub_masks_credentials():
    from govcloud.redact import scrub, scrub_data
    cases = [f"Unable to establish connection to http://admin:{SECRET}@127.0.0.1:1/v3/auth/tokens",
             f"{{'auth': {{'username': 'admin', 'password': '{SECRET}'}}}}",
             f'{{"password": "{SECRET}"}}', f"password={SECRET}&user=x", f"X-Auth-Token: {SECRET}",
             f"Authorization: Bearer {SECRET}", f"ssh://root:{SECRET}@198.18.1.40:22"]
    for c in cases:
        assert SECRET not in scrub(c), c
    assert scrub("sha256:abc 1 error(s) in policy.yaml") == "sha256:abc 1 error(s) in policy.yaml"
    assert scrub_data({"reason": f"http://u:{SECRET}@h/", "password": SECRET, "n": 1}) == \
        {"reason": "http://***@h/", "password": "***", "n": 1}


def test_credentials_in_the_auth_url_never_show(tmp_path):
    """Keystone unreachable, credentials in the auth URL: a clear error (exit 1, not 70) and the
    password nowhere — screen, debug log (created 0600 in a 0700 directory), journal."""
    inv = write_inventory(tmp_path / "inv", [("h43", "198.18.1.43")], ("h38", "198.18.1.38"), start="2026-11-23")
    assert gc("plan", "generate", str(inv), "--out", str(tmp_path / "plans"), "--id", "drill").returncode == 0
    plan = tmp_path / "plans" / "drill"
    assert gc(*approve_args(plan)).returncode == 0
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(f"""clouds:
  leaky:
    auth:
      auth_url: http://admin:{SECRET}@127.0.0.1:1/v3
      username: admin
      password: {SECRET}
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
""", encoding="utf-8")
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache), "GOVCLOUD_DEBUG_LOG": "", "OS_PASSWORD": SECRET}
    env.pop("GOVCLOUD_DEBUG_LOG")
    os.environ.pop("GOVCLOUD_DEBUG_LOG", None)
    for extra in ((), ("--output", "json")):
        p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run", "--cloud", "leaky", "--cloud-config",
               str(clouds), *extra, env=env)
        assert p.returncode == 1, p.stderr
        assert SECRET not in p.stdout + p.stderr
        assert "127.0.0.1:1" in p.stderr  # still says where it could not connect
    log = cache / "govcloud" / "debug.log"
    # an unreachable Keystone is a clear CloudError (exit 1) that needs no traceback; when a debug
    # log is written (a library exception at the boundary) it is scrubbed and private
    if log.exists():
        assert SECRET not in log.read_text(encoding="utf-8")
        assert stat.S_IMODE(log.stat().st_mode) == 0o600 and stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    for f in plan.rglob("*"):
        if f.is_file():
            assert SECRET not in f.read_text(encoding="utf-8", errors="replace"), f


def test_debug_log_permissions_are_tightened(tmp_path):
    """An existing world-readable debug log and cache directory become 0600/0700 on the next write."""
    cache = tmp_path / "cache" / "govcloud"
    cache.mkdir(parents=True, mode=0o755)
    os.chmod(cache, 0o755)
    log = cache / "debug.log"
    log.write_text("old\n")
    os.chmod(log, 0o644)
    from govcloud.base import debuglog
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    try:
        try:
            raise RuntimeError(f"boom http://u:{SECRET}@x/")
        except RuntimeError as exc:
            where = debuglog.record(exc)
    finally:
        if old is None:
            os.environ.pop("XDG_CACHE_HOME")
        else:
            os.environ["XDG_CACHE_HOME"] = old
    assert str(log) in where
    assert stat.S_IMODE(log.stat().st_mode) == 0o600 and stat.S_IMODE(cache.stat().st_mode) == 0o700
    text = log.read_text(encoding="utf-8")
    assert "boom http://***@x/" in text and SECRET not in text
