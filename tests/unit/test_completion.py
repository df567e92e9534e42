"""Shell completion: values of every choice option, ids from the inventory or plan on the command
line, and a fast path that imports none of the CLI's heavy modules.

The table the fast path reads (govcloud/cli/completion_table.json) must be exactly what
``completion_spec.build()`` derives from the real typer app; every text option must be either
completed or declared free text. Ids are compared with what the real loaders read.
"""

from __future__ import annotations

import enum
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from govcloud.cli import completion as C
from govcloud.cli import completion_spec as spec

REPO = Path(__file__).resolve().parents[2]
HEYUAN = REPO / "inventories" / "heyuan"
HEAVY = ("rich", "typer", "click", "yaml", "openpyxl", "jinja2", "openstack", "ansible_runner", "paramiko",
         "govcloud.cli.root", "govcloud.model", "govcloud.render")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Completion caches ids under $XDG_CACHE_HOME: each test its own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _values(args: list[str], incomplete: str = "") -> list[str]:
    return [v for v, _ in C.complete(C.load_table(), args, incomplete)]


def _walk(cmd, path=()):
    if hasattr(cmd, "commands"):
        for name, sub in cmd.commands.items():
            yield from _walk(sub, (*path, name))
    else:
        yield " ".join(path), cmd


# ---------------------------------------------------------------- the table

def test_table_is_what_the_cli_derives():
    want = spec.dumps(spec.build())
    have = Path(C.TABLE_FILE).read_text(encoding="utf-8")
    assert have == want, ("govcloud/cli/completion_table.json is out of date: run "
                          "`python -m govcloud.cli.completion_spec > govcloud/cli/completion_table.json`")


def test_every_option_is_completed_or_declared_free_text():
    from govcloud.cli.root import app
    unclassified = []
    for path, cmd in _walk(typer.main.get_command(app)):
        for p in cmd.params:
            if p.param_type_name != "option" or getattr(p, "is_flag", False):
                continue
            ann = p.type_descriptor.annotation
            if ann is not str:
                continue          # enums complete from their values; paths by the shell; numbers: nothing
            name = p.opts[0]
            done = ((path, name) in spec._value_sources() or (path, name) in spec.ID_SOURCES
                    or name in spec.FREE_TEXT)
            if not done:
                unclassified.append(f"{path} {name}")
    assert not unclassified, "text options neither completed nor listed in completion_spec.FREE_TEXT: " + \
        ", ".join(unclassified)


def test_every_enum_option_completes_its_values():
    from govcloud.cli.root import app
    checked = 0
    for path, cmd in _walk(typer.main.get_command(app)):
        for p in cmd.params:
            ann = p.type_descriptor.annotation
            if p.param_type_name == "option" and isinstance(ann, type) and issubclass(ann, enum.Enum):
                for name in p.opts:
                    assert _values([*path.split(), name]) == [str(e.value) for e in ann], (path, name)
                    checked += 1
    assert checked > 60        # --output and --lang on nearly every command, --format, --via, --level …


@pytest.mark.parametrize("args, want", [
    (["inventory", "list", "x", "--kind"], ["systems", "servers"]),
    (["inventory", "generate", "out", "--scale"], ["city", "province", "national"]),
    (["inventory", "export", "x", "--format"], ["xlsx", "csv", "json", "html"]),
    (["inventory", "export", "x", "-f"], ["xlsx", "csv", "json", "html"]),
    (["inventory", "import", "f", "--format"], ["census", "rvtools", "netbox", "ansible", "aws-csv", "azure-csv",
                                                "gcp-csv", "govcloud"]),
    (["inventory", "template", "census", "--format"], ["xlsx", "csv"]),
    (["inventory", "template"], ["census"]),
    (["report", "p", "--format"], ["html", "md"]),
    (["plan", "show", "p", "--by"], ["batch", "department", "room"]),
    (["plan", "approve", "p", "--scheme"], ["ssh", "sm2-sm3"]),
    (["migrate", "run", "p", "--until"], ["prechecked", "provisioned", "synced"]),
    (["plan", "generate", "inv", "--lang"], ["zh", "en"]),
    (["migrate", "status", "p", "-o"], ["text", "json"]),
    (["inventory", "discover", "inv", "--via"], ["ssh", "ansible"]),
    (["compliance", "check", "inv", "--level"], ["2", "3"]),
    (["inventory", "list", "x", "--lifecycle"], ["planned", "building", "in_service", "idle", "zombie",
                                                 "decommissioned"]),
    (["inventory", "stats", "x", "--secrecy"], ["non_classified", "classified"]),
    (["inventory", "show", "x", "--zone"], ["gov_intranet", "gov_extranet", "dedicated_net", "internet",
                                            "isolated_lan"]),
])
def test_choice_values(args, want):
    assert _values(args) == want


def test_commands_options_and_prefixes():
    assert _values([]) == ["audit", "compliance", "inventory", "migrate", "node", "plan", "report"]
    assert _values(["migrate"], "r") == ["rehearse", "release", "rollback", "run"]
    assert _values(["inventory", "export", "x"], "--f") == ["--format", "--force"]     # in the order of --help
    assert "--install-completion" in _values([], "--")
    assert _values(["plan", "show", "p", "--by"], "d") == ["department"]
    assert _values(["plan", "show", "p"], "--by=r") == ["--by=room"]
    assert _values(["plan", "show", "p", "--by", "="], "b") == ["batch"]     # bash splits --by=b at "="
    assert _values(["inventory", "list", "inventories/heyuan"]) == []        # a path: the shell's own completion


# ---------------------------------------------------------------- ids from files

def test_inventory_ids_match_the_loader():
    from govcloud.inventory.loader import load_inventory
    inv = load_inventory(HEYUAN).inventory
    base = ["inventory", "list", str(HEYUAN)]
    assert set(_values([*base, "--department"])) == set(inv.organizations)
    assert set(_values([*base, "--room"])) == set(inv.machine_rooms)
    assert set(_values([*base, "--department"], "xxzx-4416")) == {o for o in inv.organizations
                                                                  if o.startswith("xxzx-4416")} != set()
    show = set(_values(["inventory", "show", str(HEYUAN)]))
    assert set(inv.systems) | set(inv.servers) | set(inv.organizations) | set(inv.databases) <= show
    servers = set(_values(["inventory", "discover", str(HEYUAN), "--hosts"]))
    assert servers == set(inv.servers)
    assert set(_values(["compliance", "check", str(HEYUAN), "--system"])) == set(inv.systems)
    # without the inventory on the line there is nothing to read
    assert _values(["inventory", "list", "--department"]) == []


def test_generated_inventory_ids_match_the_loader(tmp_path):
    from govcloud.inventory.loader import load_inventory
    from govcloud.usecases.inventory import generate
    generate(tmp_path / "city", scale="city", seed=5, force=False)
    inv = load_inventory(tmp_path / "city").inventory
    assert set(_values(["inventory", "stats", str(tmp_path / "city"), "--department"])) == set(inv.organizations)
    show = set(_values(["inventory", "show", str(tmp_path / "city")]))
    assert set(inv.systems) | set(inv.servers) <= show


@pytest.fixture(scope="module")
def heyuan_plan(tmp_path_factory) -> Path:
    from govcloud.usecases.plan import generate_plan
    out = tmp_path_factory.mktemp("plans")
    generate_plan(HEYUAN, policy_file=None, plan_id="cmpl-heyuan", out=out, start=None, batch_weeks=4,
                  lang="en")
    return out / "cmpl-heyuan"


def test_plan_ids_match_the_plan(heyuan_plan):
    from govcloud.store.planfile import read_plan
    plan = read_plan(heyuan_plan)
    assert _values(["migrate", "run", str(heyuan_plan), "--batch"]) == [b.id for b in plan.batches]
    assert _values(["migrate", "status", str(heyuan_plan / "plan.yaml"), "--batch"]) == [b.id for b in plan.batches]
    b1 = plan.batches[1]
    assert _values(["migrate", "run", str(heyuan_plan), "--batch", b1.id, "--system"]) == [i.system for i in b1.items]
    # a batch by number, as --batch takes it
    assert _values(["migrate", "cutover", str(heyuan_plan), "-b", "1", "--system"]) == [i.system for i in b1.items]
    every = [i.system for b in plan.batches for i in b.items]
    assert _values(["migrate", "rollback", str(heyuan_plan), "--system"]) == every
    assert _values(["plan", "explain", str(heyuan_plan)]) == every
    # --system is repeatable: one already given is not offered again
    first = b1.items[0].system
    again = _values(["migrate", "run", str(heyuan_plan), "-b", b1.id, "--system", first, "--system"])
    assert first not in again and len(again) == len(b1.items) - 1


def test_cached_ids_follow_the_files(tmp_path):
    """The second TAB reads the cache; a changed, added or removed file is read again."""
    import shutil
    from govcloud.base import idscan
    inv = tmp_path / "inv"
    shutil.copytree(HEYUAN, inv)
    first = _values(["inventory", "list", str(inv), "--department"])
    assert first == idscan.inventory_ids(str(inv), "organizations", cache=False)
    assert list((tmp_path / "cache" / "govcloud" / "completion").glob("*/organizations.json"))
    orgs = inv / "organizations.yaml"
    orgs.write_text(orgs.read_text(encoding="utf-8") + "  - {id: zz-new, name: 新单位, org_type: gov_component}\n",
                    encoding="utf-8")
    assert _values(["inventory", "list", str(inv), "--department"]) == [*first, "zz-new"]
    (inv / "departments" / "extra.yaml").write_text("format_version: 1\nmachine_rooms:\n  - id: room-extra\n",
                                                    encoding="utf-8")
    assert "room-extra" in _values(["inventory", "list", str(inv), "--room"])
    (inv / "departments" / "extra.yaml").unlink()
    assert "room-extra" not in _values(["inventory", "list", str(inv), "--room"])
    # the cache is private
    cdir = next((tmp_path / "cache" / "govcloud" / "completion").iterdir())
    assert cdir.stat().st_mode & 0o077 == 0 and (cdir / "stamps.json").stat().st_mode & 0o077 == 0


def test_cached_plan_ids_follow_the_plan(tmp_path, heyuan_plan):
    import shutil
    plan = tmp_path / "p"
    shutil.copytree(heyuan_plan, plan)
    batches = _values(["migrate", "run", str(plan), "--batch"])
    assert batches == _values(["migrate", "run", str(plan), "--batch"])        # from the cache
    text = (plan / "plan.yaml").read_text(encoding="utf-8")
    (plan / "plan.yaml").write_text(text.replace('{"id": "B00"', '{"id": "B00x"', 1), encoding="utf-8")
    assert _values(["migrate", "run", str(plan), "--batch"]) == ["B00x", *batches[1:]]


def test_only_ids_of_the_grammar_are_offered_to_the_shell(tmp_path):
    """A hostile file's "id" (shell syntax a TAB would insert into the command line) is never
    offered; the scanner's grammar is the model's."""
    from govcloud.base import idscan
    from govcloud.model import ids
    assert idscan.ID_GRAMMAR.pattern == ids.ID_RE.pattern
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "organizations.yaml").write_text(
        "format_version: 1\norganizations:\n  - id: ok-1\n  - id: x;reboot\n  - id: $(touch${IFS}p)\n"
        "  - id: `id`\n  - id: a|b\n  - id: ok-2\n", encoding="utf-8")
    assert _values(["inventory", "list", str(inv), "--department"]) == ["ok-1", "ok-2"]
    plan = tmp_path / "plan.yaml"
    plan.write_text('{\n"batches": [\n  {"id": "B01", "items": [\n    {"id": "s1;reboot"},\n    {"id": "s2"}]},\n'
                    '  {"id": "$(x)", "items": []}\n]\n}\n', encoding="utf-8")
    assert _values(["migrate", "run", str(tmp_path), "--batch"]) == ["B01"]
    assert _values(["migrate", "run", str(tmp_path), "--system"]) == ["s2"]


def test_unreadable_files_complete_nothing(tmp_path):
    assert _values(["migrate", "run", str(tmp_path / "missing"), "--batch"]) == []
    (tmp_path / "plan.yaml").write_bytes(b"\xff\xfe not a plan {{{")
    assert _values(["migrate", "run", str(tmp_path), "--batch"]) == []


# ---------------------------------------------------------------- shells and the real entry point

def _run(env_extra: dict[str, str], *, importtime: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMP_", "_TYPER", "_GOVCLOUD"))}
    env["XDG_CACHE_HOME"] = os.environ["XDG_CACHE_HOME"]          # the test's own (the autouse fixture)
    env.update(env_extra)
    code = "from govcloud.cli.app import main; main()"
    argv = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", code]
    return subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=60)


def test_bash_entry_point_and_no_heavy_imports():
    r = _run({"_GOVCLOUD_COMPLETE": "complete_bash", "COMP_WORDS": "govcloud inventory list inventories/heyuan --kind ",
              "COMP_CWORD": "5"}, importtime=True)
    assert r.returncode == 0
    assert r.stdout.split() == ["systems", "servers"]
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "govcloud.cli.completion" in imported
    heavy = sorted(m for m in imported if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert not heavy, f"the completion path imported {heavy}"


def test_zsh_fish_powershell_formats():
    z = _run({"_GOVCLOUD_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "govcloud plan show p --by "})
    assert z.stdout.strip() == "_arguments '*: :((\"batch\"\n\"department\"\n\"room\"))'"
    f = _run({"_GOVCLOUD_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args",
              "_TYPER_COMPLETE_ARGS": "govcloud migrate r"})
    assert [line.split("\t")[0] for line in f.stdout.splitlines()] == ["rehearse", "release", "rollback", "run"]
    assert _run({"_GOVCLOUD_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "is-args",
                 "_TYPER_COMPLETE_ARGS": "govcloud inventory list "}).returncode == 1   # a path: fish's files
    p = _run({"_GOVCLOUD_COMPLETE": "complete_powershell", "_TYPER_COMPLETE_ARGS": "govcloud report x --format",
              "_TYPER_COMPLETE_WORD_TO_COMPLETE": ""})
    assert [line.split(":::")[0] for line in p.stdout.splitlines()] == ["html", "md"]


def test_source_instruction_still_goes_to_typer():
    r = _run({"_GOVCLOUD_COMPLETE": "source_bash"})
    assert r.returncode == 0 and "complete -o default -F" in r.stdout and "_GOVCLOUD_COMPLETE=complete_bash" in r.stdout


def test_split_words_tolerates_unfinished_quotes():
    assert C.split_words("govcloud plan show 'my plans/p") == ["govcloud", "plan", "show", "my plans/p"]
    assert C.split_words('a "b c" d\\ e') == ["a", "b c", "d e"]


def test_descriptions_in_the_users_language():
    """zsh and fish show a description next to each option and command: Chinese by default,
    English with GOVCLOUD_LANG=en or --lang en on the line (from the help catalog, no catalog
    loaded on a TAB)."""
    z = _run({"_GOVCLOUD_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "govcloud plan generate inv --fo",
              "GOVCLOUD_LANG": ""})
    assert '"--force":"用不同的计划替换已审批的计划' in z.stdout, z.stdout
    e = _run({"_GOVCLOUD_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "govcloud plan generate inv --fo",
              "GOVCLOUD_LANG": "en"})
    assert '"--force":"Replace an approved plan' in e.stdout, e.stdout
    f = _run({"_GOVCLOUD_COMPLETE": "complete_zsh", "GOVCLOUD_LANG": "",
              "_TYPER_COMPLETE_ARGS": "govcloud plan generate inv --lang en --fo"})
    assert '"--force":"Replace an approved plan' in f.stdout, f.stdout
    g = _run({"_GOVCLOUD_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args",
              "_TYPER_COMPLETE_ARGS": "govcloud pl", "GOVCLOUD_LANG": ""})
    assert g.stdout.startswith("plan\t计划 — 分批次迁移计划"), g.stdout
    # every described entry of the table has its Chinese description
    table = json.loads((REPO / "govcloud" / "cli" / "completion_table.json").read_text(encoding="utf-8"))

    def walk(node):
        yield node
        for o in node.get("options", ()):
            yield o
        for sub in node.get("commands", {}).values():
            yield from walk(sub)
    described = [n for n in walk(table) if n.get("help")]
    assert len(described) > 150 and all(n.get("help_zh") and n["help_zh"] != n["help"] for n in described
                                        if n["help"] not in ("Show this message and exit.",))
