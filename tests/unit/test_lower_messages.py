"""Messages built below the renderer (validation and import problems, store and model errors) are
catalog messages: English as their ``str`` (JSON, logs, English assertions), Chinese on demand."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from govcloud.base.i18n import Msg, localize
from govcloud.inventory.validate import validate_path
from govcloud.inventory.writer import render_document
from govcloud.model.dates import DateError, parse_date
from govcloud.model.entities import kind_label, section_label
from govcloud.model.enums import Items, Label, Lifecycle, NetworkZone


def _inventory(tmp_path: Path) -> Path:
    (tmp_path / "inventory.yaml").write_text(
        "format_version: 1\n"
        "inventory: {name: t}\n"
        "organizations:\n  - id: o1\n    name: 测试局\n"
        "systems:\n"
        "  - id: s1\n    name: 系统一\n    owner_org: o2\n    lifecycle: in_service\n"
        "    secrecy: classified\n    network_zone: internet\n"
        "servers:\n  - id: h1\n    hostname: h1\n    cores: \"4\"\n    ram_gb: 8\n    os_distribution: centos\n",
        encoding="utf-8")
    return tmp_path


def _by_code(result) -> dict[str, object]:
    return {p.code: p for p in result.problems}


def test_validation_problems_are_english_text_and_chinese_on_demand(tmp_path: Path) -> None:
    problems = _by_code(validate_path(_inventory(tmp_path)))
    dangling = problems["dangling-reference"]
    assert dangling.message == "organization 'o2' does not exist"           # what JSON and logs keep
    assert json.loads(json.dumps(dangling.to_json()))["message"] == "organization 'o2' does not exist"
    assert localize(dangling.message, "zh") == "部门/单位 'o2' 不存在"      # the reference kind by its Chinese name
    no_servers = problems["no-servers"]
    assert no_servers.message == "system '系统一' is in_service but lists no servers"
    assert localize(no_servers.message, "zh") == "系统 '系统一' 的生命周期为“在用”，但未列出服务器"
    assert localize(no_servers.message, "en") == "system '系统一' is in service but lists no servers"
    assert localize(no_servers.hint, "zh").startswith("请在 `servers:` 下列出")
    placed = problems["classified-on-open-network"]
    assert localize(placed.message, "zh") == "涉密系统 '系统一' 登记在互联网上"
    quoted = problems["wrong-type"]
    assert quoted.message == "expected a whole number, got text '4'"
    assert localize(quoted.message, "zh") == "应为整数，实为文本 '4'" and localize(quoted.hint, "zh") == "请去掉引号"


def test_labels_and_lists_inside_a_message() -> None:
    zone = NetworkZone.internet.msg
    assert isinstance(zone, Label) and zone == "internet" and zone.text("zh") == "互联网"
    m = Msg("{kind} '{value}' does not exist", kind=kind_label("machine_room"), value="r1")
    assert m == "machine room 'r1' does not exist"
    assert m.text("zh").startswith("机房 'r1'")
    assert section_label("machine_rooms").text("zh") == "机房" and section_label("machine_rooms") == "machine rooms"
    assert kind_label("no_such_kind") == "no such kind"
    items = Items(["cores", Msg("{field} (→ incomplete {record})", field="system", record="S1")])
    assert items == "cores, system (→ incomplete S1)"
    assert items.text("zh") == "cores、system（→ 不完整的 S1）"
    for value in (zone, items, Msg("x {lifecycle}", lifecycle=Lifecycle.zombie.msg)):
        back = pickle.loads(pickle.dumps(value))
        assert back == value and back.text("zh") == value.text("zh")


def test_a_date_error_carries_a_translatable_message() -> None:
    assert parse_date("2018年12月31日").isoformat() == "2018-12-31"
    assert parse_date("201812月底").isoformat() == "2018-12-31"
    with pytest.raises(DateError) as err:
        parse_date("2019-02-30")
    msg = err.value.args[0]
    assert str(err.value) == "'2019-02-30' is an impossible date (2019-02 has 28 days)"
    assert localize(msg, "zh") == "'2019-02-30' 是不存在的日期（2019-02 只有 28 天）"


def test_the_writer_writes_a_message_as_plain_text() -> None:
    text = render_document({"systems": [{"id": "s1", "name": Msg("app {n}", n=1), "zone": NetworkZone.internet.msg}]})
    assert "name: app 1\n" in text and "zone: internet\n" in text and "!!" not in text


def test_a_busy_lock_explains_itself_in_either_language(tmp_path: Path) -> None:
    import os

    from govcloud.store import lock
    fd = os.open(tmp_path / "lock", os.O_CREAT | os.O_RDWR, 0o600)
    os.write(fd, json.dumps({"pid": 7, "who": "ops@h", "command": "import", "since": "t"}).encode())
    err = lock._refuse(fd, tmp_path, "is being changed by", 0)
    os.close(fd)
    assert str(err) == f"{tmp_path} is being changed by pid 7 (ops@h, `import`, since t): another command is " \
                       "writing (one writer at a time)"
    assert localize(err.args[0], "zh") == f"{tmp_path} 正被以下进程修改：进程 7（ops@h，`import`，始于 t）——" \
                                          "另一命令正在写入（一次只允许一个写入者）"
    assert localize(err.hint, "zh").startswith("请待其结束后重试")


def test_a_runs_change_lines_show_in_the_readers_language(capsys) -> None:
    """The executor's change lines (resources created, playbooks that changed, the downtime) are
    English text in JSON and the journal, and the run view shows them in the chosen language."""
    import json
    from govcloud.base.i18n import Msg
    from govcloud.migrate.executor import SystemResult
    from govcloud.render.views import migrate as views
    r = SystemResult("govapp", "synced", True, steps=["provision", "sync"],
                     changed=[Msg("created {kind} {name}", kind="server", name="govapp-web-1"),
                              Msg("sync ({mode}): {n} changed", mode="rsync", n=3),
                              Msg("downtime {seconds} s", seconds="4.2")])
    assert json.loads(json.dumps(r.changed)) == ["created server govapp-web-1", "sync (rsync): 3 changed",
                                                 "downtime 4.2 s"]
    views.results([r], "run", "zh")
    zh = capsys.readouterr().out
    assert "创建 server govapp-web-1" in zh and "数据同步（rsync）：3 项变更" in zh and "停机 4.2 秒" in zh, zh
    views.results([r], "run", "en")
    en = capsys.readouterr().out
    assert "created server govapp-web-1" in en and "downtime 4.2 s" in en and "停机" not in en, en
