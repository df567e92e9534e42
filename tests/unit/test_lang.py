"""`--lang` is honoured by every command: each command's text output is Chinese by default and has
no Chinese character with `--lang en`.

The data is made ASCII first (every CJK run in the inventory files becomes a token such as
``Z1a2b3c``), so a Chinese character in English output can only come from the program. Commands run
in-process through the real typer app; `migrate run/cutover --dry-run` see the in-memory cloud and
scripted playbooks (govcloud.testing) instead of OpenStack and Ansible, `compliance check` evaluates
recorded facts, `compliance baseline` gets a canned playbook result, `inventory discover` meets a
port that refuses connections on 127.0.0.1 — nothing leaves the machine.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer
from typer.testing import CliRunner

from govcloud.cli.app import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import migrate_env  # noqa: E402

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_CJK_RUN = re.compile(CJK.pattern + "+")


def _token(m: re.Match) -> str:
    return "Z" + hashlib.md5(m.group().encode()).hexdigest()[:6]


def asciify(text: str) -> str:
    return _CJK_RUN.sub(_token, text)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("lang")
    inv = migrate_env.write_inventory(d / "inv", [("h61", "127.0.0.1"), ("h62", "127.0.0.1")],
                                      ("h38", "127.0.0.1"), start="2026-11-23")
    (inv / "nodes.yaml").write_text("format_version: 1\nexecution_nodes:\n"
                                    "  - {id: node-a, address: 127.0.0.1, user: govcloud, organizations: [org-drill]}\n")
    for f in inv.rglob("*.yaml"):
        f.write_text(asciify(f.read_text(encoding="utf-8")), encoding="utf-8")
    assert not any(CJK.search(f.read_text(encoding="utf-8")) for f in inv.rglob("*.yaml"))
    runner = CliRunner()
    r = runner.invoke(app, ["plan", "generate", str(inv), "--out", str(d / "plans"), "--id", "p", "-o", "json"])
    assert r.exit_code == 0, r.output
    plan = d / "plans" / "p"
    by = asciify(migrate_env.APPROVERS[0])
    r = runner.invoke(app, ["plan", "approve", str(plan), "--by", by, "--key", str(migrate_env.approver_key()),
                            "-o", "json"])
    assert r.exit_code == 0, r.output
    from govcloud.store import auditlog
    auditlog.append(inv, action="export", entity=("inventory", "p"), who={"os_user": "ops", "actor": "a"},
                    reason="lang test")
    (plan / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in [
        {"at": "2026-11-23T01:00:00Z", "who": "ops@m", "kind": "state", "system": "app1", "to": "prechecked"},
        {"at": "2026-11-23T01:01:00Z", "who": "ops@m", "kind": "state", "system": "app1", "to": "failed",
         "step": "provision", "reason": "quota: cores needed 2, free 0 of 8"},
    ]), encoding="utf-8")
    from test_compliance_checks import COMPLIANT, DEBIAN_DEFAULT, facts
    (d / "facts.json").write_text(json.dumps({"hosts": [facts(DEBIAN_DEFAULT, "h49").to_plain(),
                                                        facts(COMPLIANT, "ok").to_plain()]}))
    (d / "ssh_config").write_text("Host *\n  Port 9\n")          # discard: nothing listens, refused at once
    (d / "known_hosts").write_text("")
    return SimpleNamespace(d=d, inv=inv, plan=plan, approver=by)


@pytest.fixture
def fakes(monkeypatch):
    """The executor a migrate command builds gets the in-memory cloud and scripted playbooks."""
    from govcloud.migrate.executor import Executor
    from govcloud.testing.fake_cloud import FakeCloud
    from govcloud.testing.scripted import ScriptedPlaybooks, ScriptedProbe
    from govcloud.usecases import migrate as uc
    cloud = FakeCloud(flavors={"m1.small": (1, 2048), "c2.m4": (2, 4096)}, networks={"govcloud-net": "198.18.128.0/24"})
    monkeypatch.setattr(uc, "Executor", functools.partial(Executor, cloud=cloud.connect, playbooks=ScriptedPlaybooks(),
                                                          probe=ScriptedProbe()))


@pytest.fixture
def canned_baseline(monkeypatch):
    """`compliance baseline` without Ansible: the driver returns a run with one changed and one failed task."""
    import govcloud.drivers.ansible as A
    run = SimpleNamespace(rc=2, status="failed", ok=False, stats={"ok": {"h49": 3}, "failures": {"h49": 1}},
                          changed_tasks={"h49": ["set PASS_MAX_DAYS"]}, failed_tasks={"h49": ["auditd"]},
                          messages={"h49": ["auditd: package missing"]}, artifact_dir=None,
                          changed=lambda h: 1)
    monkeypatch.setattr(A, "run_playbook", lambda *a, **k: run)


def commands(w: SimpleNamespace, lang: str) -> dict[str, tuple[list[str], str | None]]:
    """Every command of the CLI: its arguments (text output) and the input typed at a prompt."""
    d, inv, plan = w.d, str(w.inv), str(w.plan)
    return {
        "inventory validate": (["inventory", "validate", inv], None),
        "inventory show": (["inventory", "show", inv], None),
        "inventory show ID": (["inventory", "show", inv, "app1"], None),
        "inventory list": (["inventory", "list", inv, "--kind", "servers"], None),
        "inventory stats": (["inventory", "stats", inv, "--eol-on", "2026-06-01"], None),
        "inventory schema": (["inventory", "schema", "--out", str(d / f"schema-{lang}.json")], None),
        "inventory generate": (["inventory", "generate", str(d / f"gen-{lang}"), "--scale", "city"], None),
        "inventory export": (["inventory", "export", inv, "--format", "json", "--out", str(d / f"exp-{lang}")], None),
        "inventory export --verify": (["inventory", "export", "--verify", str(d / f"exp-{lang}")], None),
        "inventory discover": (["inventory", "discover", inv, "--ssh-config", str(d / "ssh_config"),
                                "--known-hosts", str(d / "known_hosts"), "--retries", "0", "--connect-timeout", "2",
                                "--timeout", "10", "--sample-seconds", "0"], None),
        "inventory template": (["inventory", "template", "census", "--out", str(d / f"census-{lang}.csv"), "--force"], None),
        "inventory import": (["inventory", "import", str(d / f"exp-{lang}"), "--format", "govcloud",
                              "--into", str(d / f"imported-{lang}")], None),
        "plan generate": (["plan", "generate", inv, "--out", str(d / f"plans-{lang}"), "--id", "q"], None),
        "plan validate": (["plan", "validate", plan], None),
        "plan show": (["plan", "show", plan], None),
        "plan show --by department": (["plan", "show", plan, "--by", "department"], None),
        "plan show --by room": (["plan", "show", plan, "--by", "room"], None),
        "plan show --systems": (["plan", "show", plan, "--systems"], None),
        "plan show --unscheduled": (["plan", "show", plan, "--unscheduled"], None),
        "plan show --rooms": (["plan", "show", plan, "--rooms"], None),
        "plan explain": (["plan", "explain", plan, "app1"], None),
        "plan diff": (["plan", "diff", plan, str(d / f"plans-{lang}" / "q")], None),
        "plan approve": (["plan", "approve", str(d / f"plans-{lang}" / "q"), "--by", w.approver,
                          "--key", str(migrate_env.approver_key())], None),
        "migrate run --dry-run": (["migrate", "run", plan, "--batch", "0", "--dry-run"], None),
        "migrate cutover --dry-run": (["migrate", "cutover", plan, "--batch", "0", "--dry-run"], None),
        "migrate rehearse --dry-run": (["migrate", "rehearse", plan, "--batch", "0", "--dry-run"], None),
        "migrate failback --dry-run": (["migrate", "failback", plan, "--system", "app1", "--reason", "r", "--dry-run"],
                                       None),
        "migrate status": (["migrate", "status", plan], None),
        "migrate state-move": (["migrate", "state-move", plan, "--from", f"file://{d}/state-a-{lang}",
                                "--to", f"file://{d}/state-b-{lang}"], None),
        "migrate rollback": (["migrate", "rollback", plan, "--system", "app1"], "n\n"),
        "migrate decommission": (["migrate", "decommission", plan, "--system", "app1", "--reason", "r"], "n\n"),
        "migrate release": (["migrate", "release", plan, "--system", "app1", "--reason", "r"], "n\n"),
        "compliance check": (["compliance", "check", "--facts", str(d / "facts.json"), "--level", "3"], None),
        "compliance checks": (["compliance", "checks"], None),
        "compliance baseline": (["compliance", "baseline", "--hosts", "h49", "--inventory-file",
                                 str(d / "hosts.ini")], None),
        "audit verify": (["audit", "verify", inv], None),
        "audit show": (["audit", "show", inv], None),
        "node prepare --dry-run": (["node", "prepare", inv, "node-a", "--dry-run"], None),
        "report": (["report", plan, "--out", str(d / f"report-{lang}.html")], None),
    }


def _leaf_commands() -> set[str]:
    out = set()

    def walk(c, path):
        if hasattr(c, "commands"):
            for n, sub in c.commands.items():
                walk(sub, path + [n])
        else:
            out.add(" ".join(path))
    walk(typer.main.get_command(app), [])
    return out


def test_every_command_is_checked(world) -> None:
    checked = {name.split(" --")[0].split(" ID")[0] for name in commands(world, "zh")}
    assert checked == _leaf_commands()


def _run(args: list[str], stdin: str | None) -> tuple[int, str]:
    from govcloud.cli.root import error_text
    from govcloud.errors import GovcloudError
    r = CliRunner().invoke(app, args, input=stdin)
    if isinstance(r.exception, GovcloudError):
        # a refusal, as the error boundary of `govcloud` (cli/root.main) prints it and exits
        lang = args[args.index("--lang") + 1] if "--lang" in args else "zh"
        text, hint = error_text(r.exception, lang)
        return int(r.exception.exit_code), r.output + text + (hint or "")
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.output


NAMES = list(commands(SimpleNamespace(d=Path("."), inv=".", plan=".", approver="x"), "zh"))


@pytest.mark.parametrize("name", NAMES)
def test_chinese_by_default_and_no_chinese_with_lang_en(world, fakes, canned_baseline, monkeypatch, name) -> None:
    monkeypatch.delenv("GOVCLOUD_LANG", raising=False)
    args, stdin = commands(world, "zh")[name]
    code_zh, out_zh = _run(args, stdin)
    assert CJK.search(out_zh), f"{name}: no Chinese by default:\n{out_zh}"
    args, stdin = commands(world, "en")[name]
    code_en, out_en = _run(args + ["--lang", "en"], stdin)
    found = sorted(set(CJK.findall(out_en)))
    assert not found, f"{name} --lang en prints Chinese {found}:\n{out_en}"
    assert code_zh == code_en, (name, code_zh, code_en)
    assert code_en in (0, 1, 3), (name, code_en, out_en)      # what each command documents (no usage, no bug)


def test_dry_run_with_changes_exits_changes(world, fakes) -> None:
    """`--detailed-exitcode`: changes present is ExitCode.CHANGES (2), the JSON says how many."""
    from govcloud.errors import ExitCode
    code, out = _run(["migrate", "run", str(world.plan), "--batch", "0", "--dry-run", "--detailed-exitcode",
                      "-o", "json"], None)
    assert code == ExitCode.CHANGES == 2 and json.loads(out)["to_do"] > 0, out


def test_status_is_one_typed_result(world) -> None:
    """usecases.migrate.status: the journal's states, the plan's approval and the counts in one result
    (the table and the JSON are two renderings of it)."""
    from govcloud.usecases.migrate import status
    st = status(world.plan)
    by = {r["system"]: r for r in st.systems}
    assert by["app1"]["state"] == "failed" and by["app1"]["failed_step"] == "provision"
    assert by["app2"]["state"] == "pending" and st.counts == {"failed": 1, "pending": 1}
    assert st.plan_state.approval.status == "approved" and not st.plan_state.stale
    plain = st.to_plain()
    assert plain["approval"]["status"] == "approved" and plain["systems"] == st.systems
    code, out = _run(["migrate", "status", str(world.plan), "-o", "json"], None)
    assert code == 0 and json.loads(out) == json.loads(json.dumps(plain))


def test_run_goes_through_the_use_case_under_the_systems_locks(world, fakes, monkeypatch) -> None:
    """`migrate run --yes` on the fakes: the step runs holding the locks of its systems (a second
    run of them would be refused), its results are shown in the user's language and journaled."""
    from govcloud.store import journal
    from govcloud.store.filestate import FileState
    held = []
    real_lock = FileState.lock_systems

    def spy(self, plan, systems, command):
        held.append((Path(plan.plan_dir).resolve(), sorted(systems), command))
        return real_lock(self, plan, systems, command)
    monkeypatch.setattr(FileState, "lock_systems", spy)
    before = len(journal.read(world.plan).entries)
    code, out = _run(["migrate", "run", str(world.plan), "--batch", "0", "--system", "app2", "--until",
                      "prechecked", "--yes"], None)
    assert held == [(world.plan.resolve(), ["app2"], "migrate run --batch 0 --system app2")], held
    assert code == 0 and "app2" in out and "已预检" in out, out
    assert len(journal.read(world.plan).entries) > before


# ---------------------------------------------------------------- the error boundary (govcloud.cli.root.main)

def _main(args: list[str], capsys) -> tuple[int, str]:
    """The real entry point (the error boundary), as a shell would run it: exit code and stderr."""
    from govcloud.cli.root import main
    with pytest.raises(SystemExit) as ex:
        main(args)
    return ex.value.code, capsys.readouterr().err


def test_the_boundary_knows_the_language_before_the_command_runs(monkeypatch) -> None:
    from govcloud.cli.root import language
    monkeypatch.delenv("GOVCLOUD_LANG", raising=False)
    assert language(["plan", "show", "p"]) == "zh"
    assert language(["plan", "show", "p", "--lang", "en"]) == "en"
    assert language(["plan", "show", "--lang=en", "p"]) == "en"
    assert language(["plan", "show", "--lang", "en", "--lang", "zh"]) == "zh"       # the last one wins, as in click
    assert language(["plan", "show", "--lang", "fr"]) == "zh"                      # click refuses it; Chinese meanwhile
    assert language(["migrate", "run", "--", "--lang", "en"]) == "zh"              # after --: an argument
    monkeypatch.setenv("GOVCLOUD_LANG", "en")
    assert language(["audit", "show", "x"]) == "en"
    assert language(["audit", "show", "x", "--lang", "zh"]) == "zh"


def test_errors_in_the_command_line_language_for_every_group(world, fakes, monkeypatch, capsys, tmp_path) -> None:
    """A GovcloudError's Msg (message and hint) is printed by the boundary in Chinese by default, in English
    with --lang en or GOVCLOUD_LANG=en; the exit code is the error's own."""
    monkeypatch.delenv("GOVCLOUD_LANG", raising=False)
    inv, plan = str(world.inv), str(world.plan)
    bad = tmp_path / "findings.json"
    bad.write_text('{"host": "h1"}')
    cases = {   # group: (arguments, exit code, Chinese, English)
        "inventory": (["inventory", "show", inv, "nope"], 1, "中没有编号为 'nope' 的记录", "no record with id 'nope' in"),
        "plan": (["plan", "show", plan, "--by", "x"], 2, "--by 须为 batch、department 或 room",
                 "--by must be batch, department or room"),
        "migrate": (["migrate", "rollback", plan, "--system", "nope", "--yes"], 1,
                    "系统 'nope' 不在计划 p 的任何批次中", "system 'nope' is not in a batch of p"),
        "report": (["report", plan, "--out", str(tmp_path / "r.html"), "--compliance", str(bad)], 1,
                   "应为由 {host, check_id, status} 对象组成的 JSON 列表",
                   "expected a JSON list of {host, check_id, status} objects"),
        # checked before any command runs, for every group alike
        "audit": (["audit", "show", inv, "--actor", "a\nb"], 2, "须为不含控制字符", "must be text without control"),
        "compliance": (["compliance", "checks", "--reason", "a\x1b[2J"], 2, "须为不含控制字符",
                       "must be text without control"),
    }
    for group, (args, code, zh, en) in cases.items():
        got, err = _main(args, capsys)
        assert got == code and err.startswith("错误：") and zh in err, (group, got, err)
        got, err = _main(args + ["--lang", "en"], capsys)
        assert got == code and err.startswith("error: ") and en in err and not CJK.search(err), (group, got, err)
        monkeypatch.setenv("GOVCLOUD_LANG", "en")
        got, err = _main(args, capsys)
        monkeypatch.delenv("GOVCLOUD_LANG")
        assert got == code and en in err and not CJK.search(err), (group, "GOVCLOUD_LANG=en", got, err)


def test_a_lower_layer_msg_and_its_hint_are_localized(world, monkeypatch, capsys) -> None:
    """What a layer below the renderer raises (a Msg message with a Msg hint) reaches the screen in the
    reader's language, with its parameters; a plain-text message is shown as written."""
    from govcloud.base.i18n import Msg
    from govcloud.errors import GovcloudError
    from govcloud.store import auditlog
    monkeypatch.delenv("GOVCLOUD_LANG", raising=False)

    def refuse(path):
        raise GovcloudError(Msg("no record with id '{id}' in {root}", id="x1", root="inv"),
                            hint=Msg("for example: {example}", example="govcloud audit verify inv"))
    monkeypatch.setattr(auditlog, "verify", refuse)
    code, err = _main(["audit", "verify", str(world.inv)], capsys)
    assert code == 1 and err == "错误：inv 中没有编号为 'x1' 的记录\n  提示：例如：govcloud audit verify inv\n", err
    code, err = _main(["audit", "verify", str(world.inv), "--lang", "en"], capsys)
    assert err == "error: no record with id 'x1' in inv\n  hint: for example: govcloud audit verify inv\n", err

    def plain(path):
        raise GovcloudError("written as is", hint="a plain hint")
    monkeypatch.setattr(auditlog, "verify", plain)
    code, err = _main(["audit", "verify", str(world.inv)], capsys)
    assert code == 1 and "written as is" in err and "a plain hint" in err, err


def test_unreached_hosts_keep_their_english_labels() -> None:
    """The discover view words base.sshfail's kinds through the catalog: its English is sshfail's own."""
    from govcloud.base.sshfail import LABELS
    from govcloud.render.views import discover
    assert {k: discover.reason(k, "en") for k in LABELS} == LABELS
    assert discover.reason("hostkey-changed", "zh") == "主机密钥已变更（拒绝连接）"
    assert discover.reason("new-kind", "zh") == "new-kind"


def test_the_boundary_lines(monkeypatch, capsys, tmp_path) -> None:
    """An OSError (the file system refused) and a bug: one line each, labelled in the user's language; a bug's
    line keeps the words 'internal error' (what a bug report and a grep look for)."""
    from govcloud.cli import root
    monkeypatch.delenv("GOVCLOUD_LANG", raising=False)

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied", str(tmp_path / "x"))
    monkeypatch.setattr(root, "app", refuse)
    code, err = _main(["plan", "show", "p"], capsys)
    assert code == 1 and err == f"错误：{tmp_path / 'x'}: Permission denied\n", err     # no markup printed as text
    code, err = _main(["plan", "show", "p", "--lang", "en"], capsys)
    assert code == 1 and err == f"error: {tmp_path / 'x'}: Permission denied\n", err

    def bug(*a, **k):
        raise KeyError("oops")
    monkeypatch.setattr(root, "app", bug)
    code, err = _main(["plan", "show", "p"], capsys)
    assert code == 70 and err.startswith("内部错误（internal error）：KeyError: 'oops'"), err
    code, err = _main(["plan", "show", "p", "--lang", "en"], capsys)
    assert code == 70 and err.startswith("internal error: KeyError: 'oops'"), err


def test_every_command_reads_govcloud_lang() -> None:
    """Each command's --lang falls back to GOVCLOUD_LANG (issue 21: migrate, discover and audit once
    ignored the language)."""
    def walk(c, path):
        if hasattr(c, "commands"):
            for n, sub in c.commands.items():
                yield from walk(sub, path + [n])
        else:
            yield " ".join(path), c
    for name, cmd in walk(typer.main.get_command(app), []):
        langs = [p for p in cmd.params if "--lang" in getattr(p, "opts", ())]
        assert len(langs) == 1 and langs[0].envvar == "GOVCLOUD_LANG", name
        default = langs[0].default
        assert str(getattr(default, "value", default)) == "zh", (name, default)       # Chinese by default


GROUPS = ("inventory show", "inventory discover", "plan show", "migrate status", "compliance checks", "audit show",
          "report")


@pytest.mark.parametrize("name", GROUPS)
def test_govcloud_lang_en_for_each_group(world, fakes, canned_baseline, monkeypatch, name) -> None:
    monkeypatch.setenv("GOVCLOUD_LANG", "en")
    args, stdin = commands(world, "en")[name]
    code, out = _run(args, stdin)
    assert code in (0, 1, 3) and out.strip(), (name, code, out)
    assert not CJK.search(out), (name, out)
