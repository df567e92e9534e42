"""Progress on long commands: one port (govcloud.base.progress), one renderer (render/progress.py).

* What the work reports: the loader per file, validation per check, an export per row, the
  executor per system and step with the host and the Ansible task running now.
* How it is shown: rich bars with counts on a terminal (a forced-terminal console, and the real
  command on a pty); nothing with ``--output json`` (stdout exactly one JSON document) or when
  stderr is piped (no escape sequences, no redraws); a piped ``migrate`` keeps its event lines.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from govcloud.base.progress import NULL, Progress, Recorder
from govcloud.migrate.lifecycle import State
from govcloud.render.progress import KEYS, LinesProgress, RichProgress, label, progress_for

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_executor_fake import drill, world  # noqa: E402,F401  (fixtures: two systems on the fakes)

REPO = Path(__file__).resolve().parents[2]
HEYUAN = REPO / "inventories" / "heyuan"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _terminal() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=True, width=160, color_system=None), buf


# ---------------------------------------------------------------- the port and its renderers

def test_every_phase_key_has_words_in_both_languages():
    for key in KEYS:
        zh, en = label(key, "zh"), label(key, "en")
        assert zh != f"progress.{key}" and en != f"progress.{key}" and zh != en, key
    assert isinstance(NULL, Progress) and isinstance(Recorder(), Progress)


def test_used_phase_keys_are_known():
    """Every phase key the code reports has its words (a typo would show the raw key)."""
    used = set()
    for path in (REPO / "govcloud").rglob("*.py"):
        used |= set(re.findall(r'\.phase\(\s*"([a-z.]+)"', path.read_text(encoding="utf-8")))
    assert used and used <= set(KEYS), used - set(KEYS)


def test_rich_bars_show_counts_items_and_stay_as_a_record():
    console, buf = _terminal()
    with progress_for("text", "en", console=console) as p:
        assert isinstance(p, RichProgress)
        with p.phase("export.rows", total=1200) as ph:
            for _ in range(3):
                ph.advance(400, item="servers")
        with p.phase("migrate.steps", total=2, subject="app1") as ph:
            ph.advance(item="sync @ h61")
            p.bars.refresh()                # a redraw while it runs (8 a second on their own)
        p.note("app1: cutover …")
    text = ANSI.sub("", buf.getvalue())
    assert "writing rows" in text and "1,200/1,200" in text
    assert "app1: cutover …" in text
    assert "system app1" in text and "sync @ h61" in text          # shown while it ran


def test_data_in_a_bar_is_shown_literally_never_as_markup():
    """A subject or item from an inventory ("[/]", "[red]x", an escape sequence) prints as text."""
    console, buf = _terminal()
    with progress_for("text", "en", console=console) as p:
        with p.phase("migrate.steps", total=1, subject="[/]sys[red]x") as ph:
            ph.advance(item="sync @ [bold]h61\x1b[2J")
            p.bars.refresh()
    text = ANSI.sub("", buf.getvalue())
    assert "[/]sys[red]x" in text and "[bold]h61" in text and "\x1b[2J" not in text


def test_json_and_piped_show_nothing_and_piped_migrate_keeps_its_lines():
    console, buf = _terminal()
    with progress_for("json", "en", console=console) as p:
        assert p is NULL
        with p.phase("load", total=3) as ph:
            ph.advance(3)
        p.note("app1: sync …")
    assert buf.getvalue() == ""
    piped = io.StringIO()
    plain = Console(file=piped, force_terminal=False, width=80)
    with progress_for("text", "en", console=plain) as p:
        assert p is NULL
    with progress_for("text", "en", console=plain, notes=True) as p:
        assert isinstance(p, LinesProgress)
        with p.phase("migrate.steps", total=2, subject="app1") as ph:
            ph.advance(item="sync @ h61")
        p.note("app1: sync …")
    assert piped.getvalue() == "app1: sync …\n"                   # one plain line, no bar, no escape


# ---------------------------------------------------------------- what the work reports

def test_export_reports_files_checks_and_every_row(tmp_path):
    from govcloud.usecases.export import export
    rec = Recorder()
    res = export(HEYUAN, tmp_path / "out", fmt="csv", lang="en", progress=rec)
    loaded = [e for e in rec.events if e[0] == "total" and e[1] == "load"]
    assert loaded and rec.done("load") == loaded[0][2] > 30           # every inventory file
    assert rec.done("validate") > 5
    rows = sum(t["rows"] for t in res.info["tables"].values())
    assert rows > 1000 and rec.done("export.rows") == rows
    assert [e[1] for e in rec.events if e[0] == "done" and e[2] is None] == [
        "load", "validate", "export.tables", "export.rows", "export.manifest"]


def test_plan_check_reports_loading_its_inventory_and_the_rules():
    from govcloud.usecases.plan import check
    rec = Recorder()
    checked = check(REPO / "migration-plans" / "heyuan-2018", progress=rec)
    assert not checked.violations
    starts = [e[1] for e in rec.events if e[0] == "start"]
    assert starts[:2] == ["load", "validate"] and "plan.check" in starts
    assert rec.done("load") == len(list(HEYUAN.rglob("*.yaml")))


def test_rvtools_import_reports_its_vms():
    from govcloud.interchange import formats
    from shared_data import DATA
    example = DATA / "rvtools-kubev2v-example1" / "example1.xlsx"
    rec = Recorder()
    parsed = formats.parse("rvtools", example, progress=rec)
    total = next(e[3] for e in rec.events if e[0] == "start" and e[1] == "import.records")
    assert total >= len(parsed.records) > 0 and rec.done("import.records") == total


def test_executor_reports_each_system_its_steps_hosts_and_tasks(world):
    w = world
    rec = Recorder()
    ex = w.executor()
    ex.progress = rec
    results = ex.run(w.items(ex), State.synced)
    assert all(r.ok for r in results)
    systems = {e[2] for e in rec.events if e[0] == "start" and e[1] == "migrate.steps"}
    assert systems == {"app1", "app2"}
    assert ("start", "migrate.systems", None, 2) in rec.events and rec.done("migrate.systems") == 2
    steps = [e for e in rec.events if e[0] == "advance" and e[1] == "migrate.steps" and e[2] == 1]
    assert len(steps) == sum(len(r.steps) for r in results)             # one unit per step done
    items = [e[3] for e in rec.events if e[0] == "advance" and e[1] == "migrate.steps"]
    assert any(i.startswith("sync @ h61") for i in items) and any(i.startswith("provision @ h62") for i in items)
    # the task running now and its host, as ansible-runner's event handler reports it
    assert any(re.match(r"sync · migrate_sync @ h6[12]", i) for i in items), items
    notes = [e[1] for e in rec.events if e[0] == "note"]
    assert any(n.startswith("app1: ") for n in notes)                    # the events, as notes
    # cutover: the same per-system phases
    rec2 = Recorder()
    ex = w.executor()
    ex.progress = rec2
    assert all(r.ok for r in ex.cutover(w.items(ex), today=date.today(), force_reason="test"))
    assert rec2.done("migrate.systems") == 2
    assert {e[2] for e in rec2.events if e[0] == "start" and e[1] == "migrate.steps"} == {"app1", "app2"}


def test_real_ansible_event_handler_reports_tasks_and_keeps_events(tmp_path):
    """ansible-runner's event_handler: on_task(host, task) per task start; every event is still
    written (the handler returns True), so the run's result is read as before."""
    from govcloud.drivers.ansible import run_playbook
    pb = tmp_path / "pb.yml"
    pb.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                  "    - name: first\n      ansible.builtin.debug: {msg: one}\n"
                  "    - name: second\n      ansible.builtin.debug: {msg: two}\n")
    inv = tmp_path / "inv.ini"
    inv.write_text("localhost ansible_connection=local\n")
    seen: list[tuple[str, str]] = []
    run = run_playbook(pb, inv, private_data_dir=tmp_path / "pdd", on_task=lambda h, t: seen.append((h, t)))
    assert run.rc == 0, run.failed_tasks
    assert seen == [("localhost", "first"), ("localhost", "second")]
    assert run.messages["localhost"] == ["one", "two"]                  # events kept: results read from them


# ---------------------------------------------------------------- the real command

def _on_pty(argv: list[str]) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal (stdout piped); (exit code, stdout, stderr as seen)."""
    master, slave = os.openpty()
    env = dict(os.environ, COLUMNS="140", LINES="40")
    env.pop("FORCE_COLOR", None)
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, cwd=REPO, env=env)
    os.close(slave)
    stdout: list[bytes] = []
    reader = threading.Thread(target=lambda: stdout.append(p.stdout.read()), daemon=True)
    reader.start()                       # stdout drained meanwhile: a full pipe must not block the command
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif p.poll() is not None:
            break
    p.wait(timeout=120)
    reader.join(timeout=60)
    out = b"".join(stdout).decode()
    os.close(master)
    return p.returncode, out, b"".join(chunks).decode(errors="replace")


def _govcloud(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; sys.argv[0] = 'govcloud'; from govcloud.cli.app import main; main()",
            *args]


def test_terminal_export_shows_bars_with_counts(tmp_path):
    rc, out, err = _on_pty(_govcloud("inventory", "export", str(HEYUAN), "--format", "csv", "--lang", "en",
                                     "--out", str(tmp_path / "x")))
    assert rc == 0
    shown = ANSI.sub("", err)
    assert "reading inventory files" in shown and "writing rows" in shown
    files = len(list(HEYUAN.rglob("*.yaml")))
    assert f"{files}/{files}" in shown
    assert re.search(r"writing rows.*\d{1,3}(,\d{3})+/\d{1,3}(,\d{3})+", shown)
    assert "\x1b[" in err                                               # really drawn (a terminal)


def test_json_output_is_one_document_and_no_progress_on_the_terminal(tmp_path):
    rc, out, err = _on_pty(_govcloud("inventory", "export", str(HEYUAN), "--format", "csv", "--lang", "en",
                                     "--out", str(tmp_path / "x"), "-o", "json"))
    assert rc == 0
    doc = json.loads(out)                                               # exactly one document
    assert doc["ok"] is True and out.strip().count("\n") == 0
    assert err == ""                                                    # nothing from progress on stderr


def test_piped_stderr_stays_clean(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    r = subprocess.run(_govcloud("inventory", "export", str(HEYUAN), "--format", "csv", "--lang", "en",
                                 "--out", str(tmp_path / "x")), capture_output=True, text=True, cwd=REPO, env=env,
                       timeout=120)
    assert r.returncode == 0
    assert "\x1b" not in r.stderr and "\r" not in r.stderr and "writing rows" not in r.stderr
    v = subprocess.run(_govcloud("inventory", "validate", str(HEYUAN), "--lang", "en"), capture_output=True,
                       text=True, cwd=REPO, env=env, timeout=120)
    assert v.returncode == 0 and v.stderr == ""
