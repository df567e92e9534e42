"""One journal reader (store/journal.parse): the executor's replay and the report agree on every
journal, torn or not."""

from __future__ import annotations

import pytest

from govcloud.errors import GovcloudError
from govcloud.migrate.lifecycle import replay
from govcloud.render.report import parse_journal
from govcloud.store import journal


def _both(tmp_path, text: str):
    journal.journal_path(tmp_path).write_text(text, encoding="utf-8")
    states = {s: st.state.value for s, st in replay(journal.read(tmp_path).entries).items()}
    report = {}
    for row in parse_journal(text):
        report[row["system"]] = row["state"]
    return states, report


@pytest.mark.parametrize("tail,counted", [
    ('{"kind":"state","system":"b","to":"fail', False),            # cut short by a crash: ignored by both
    ('{"kind":"state","system":"b","to":"failed"}', True),         # complete, only its newline missing: read by both
])
def test_the_executor_and_the_report_read_the_same_last_line(tmp_path, tail, counted):
    text = '{"kind":"state","system":"a","to":"prechecked"}\n' + tail
    states, report = _both(tmp_path, text)
    assert states == report == ({"a": "prechecked", "b": "failed"} if counted else {"a": "prechecked"})
    assert journal.read(tmp_path).torn_tail is (not counted)
    # the next append keeps a complete line (adds its newline) and cuts a torn one
    journal.append(tmp_path, {"kind": "state", "system": "c", "to": "pending"})
    states, report = _both(tmp_path, journal.journal_path(tmp_path).read_text())
    assert states == report and ("b" in states) is counted and states["c"] == "pending"


def test_damage_in_the_middle_is_refused_by_both_with_its_line(tmp_path):
    text = '{"kind":"state","system":"a","to":"prechecked"}\nnot json\n{"kind":"state","system":"a","to":"failed"}\n'
    journal.journal_path(tmp_path).write_text(text)
    with pytest.raises(journal.JournalError, match=r"journal.jsonl:2"):
        journal.read(tmp_path)
    with pytest.raises(GovcloudError, match=r"report.jsonl:2"):
        parse_journal(text, "report.jsonl")


def test_the_report_names_the_line_of_an_entry_without_system_and_state(tmp_path):
    with pytest.raises(GovcloudError, match=r"j:3: expected an object with string system and state"):
        parse_journal('{"system":"a","state":"done"}\n\n{"system":"a"}\n', "j")
