"""The pure parts of playbooks/library/govcloud_my_repl.py (MariaDB GTID replication): when a
source can replicate and the exact reason when not, GTID arithmetic, the dump's GTID position,
SQL literals and replication filter patterns, and that the password never reaches a message."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PB = Path(__file__).resolve().parents[2] / "playbooks"
sys.path.insert(0, str(PB / "library"))
import govcloud_my_repl as R  # noqa: E402

GOOD = {"version": "10.11.6-MariaDB-0+deb12u1-log", "log_bin": "1", "binlog_format": "ROW", "server_id": "1",
        "gtid_strict_mode": "1", "retention_s": 0.0, "have_ssl": "YES", "bind_address": "0.0.0.0",
        "skip_networking": "0", "port": 3306, "gtid_binlog_pos": "0-1-10", "present": ["govdb"],
        "non_transactional": {}}


def test_a_ready_source_replicates_without_advice():
    assert R.decide(GOOD, ["govdb"]) == (None, [], {})


@pytest.mark.parametrize("change, words", [
    ({"log_bin": "0"}, "log_bin is OFF on the source: enabling the binary log needs a restart"),
    ({"binlog_format": "STATEMENT"}, "binlog_format is STATEMENT"),
    ({"server_id": "0"}, "server_id is 0 on the source"),
    ({"bind_address": "127.0.0.1"}, "listens only on 127.0.0.1 (bind_address)"),
    ({"bind_address": "127.0.1.1"}, "listens only on 127.0.1.1"),
    ({"bind_address": "localhost"}, "listens only on localhost"),
    ({"skip_networking": "ON"}, "skip_networking is ON"),
    ({"version": "8.0.36"}, "runs MySQL 8.0.36, not MariaDB"),
    ({"version": "5.5.68-MariaDB"}, "MariaDB 5.5.68-MariaDB is too old for GTID replication"),
])
def test_a_source_that_cannot_replicate_says_exactly_why(change, words):
    reason, _, _ = R.decide({**GOOD, **change}, ["govdb"])
    assert reason is not None and words in reason, reason


def test_weaker_settings_replicate_with_advice():
    reason, advice, per_db = R.decide({**GOOD, "binlog_format": "MIXED", "gtid_strict_mode": "0",
                                       "retention_s": 3 * 3600, "have_ssl": "DISABLED"}, ["govdb"])
    assert reason is None and per_db == {}
    text = " | ".join(advice)
    for words in ("binlog_format is MIXED", "gtid_strict_mode is OFF", "kept only 3.0 h", "offers no TLS"):
        assert words in text, text
    # a retention of a week, or none at all (0: kept until purged by hand), is no concern
    assert not any("kept only" in a for a in R.decide({**GOOD, "retention_s": 7 * 86400}, ["govdb"])[1])


def test_databases_that_cannot_replicate_are_named_and_the_others_replicate():
    facts = {**GOOD, "present": ["a", "b"], "non_transactional": {"b": ["log (MyISAM)"]}}
    reason, _, per_db = R.decide(facts, ["a", "b", "c,d", "gone"])
    assert reason is None
    assert set(per_db) == {"b", "c,d", "gone"}
    assert "non-transactional tables (log (MyISAM))" in per_db["b"]
    assert "comma" in per_db["c,d"] and per_db["gone"] == "no such database on the source"


def test_gtid_distance_counts_what_the_target_still_lacks_per_domain():
    assert R.parse_gtid("0-1-100,1-2-7") == {0: (1, 100), 1: (2, 7)}
    assert R.parse_gtid("") == {}
    assert R.gtid_distance("0-1-100", "0-1-100") == 0
    assert R.gtid_distance("0-1-100", "0-1-90") == 10
    assert R.gtid_distance("0-1-100,1-2-7", "0-1-100") == 7          # a domain not seen yet counts whole
    assert R.gtid_distance("0-1-100", "0-1-120,5-9-3") == 0          # ahead or extra domains: nothing lacking
    assert R.gtid_distance("0-1-100,\n1-2-7", "1-2-5,0-1-99") == 3


def test_the_dumps_gtid_position_is_read_commented_or_not(tmp_path):
    d = tmp_path / "d.sql"
    d.write_text("-- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;\n-- Preferably use GTID to start replication:\n"
                 "-- SET GLOBAL gtid_slave_pos='0-1-6,1-2-9';\n-- Dump completed\n")
    assert R.dump_gtid(str(d)) == "0-1-6,1-2-9"
    d.write_text("SET GLOBAL gtid_slave_pos='';\n")
    assert R.dump_gtid(str(d)) == ""                                # a source with no transaction yet
    d.write_text("-- no position here\n")
    with pytest.raises(R.Failed, match="no GTID position"):
        R.dump_gtid(str(d))


def test_sql_literals_and_filter_patterns_hold_hostile_names():
    assert R.ql("a'b\\c") == "'a''b\\\\c'"
    assert R.ql("x\ny") == "'x\\ny'"
    assert R.wild_pattern("gov_app") == "gov\\_app.%"                # _ and % are LIKE wildcards
    assert R.wild_pattern("100%") == "100\\%.%"


def test_only_a_secret_govcloud_wrote_is_read(tmp_path):
    f = tmp_path / "s"
    R.write_secret(str(f), "ab" * 24)
    assert f.stat().st_mode & 0o777 == 0o600
    assert R.read_secret(str(f)) == "ab" * 24
    f.write_text("x'; drop user root; --\n")
    with pytest.raises(R.Failed, match="not a replication secret"):
        R.read_secret(str(f))


def test_the_password_never_reaches_an_error_message(tmp_path):
    class M:
        params = {"client": ["sh", "-c", "cat >/dev/null; echo \"ERROR 1064: near 'secretpw123' at line 1\" >&2; exit 1"]}
    my = R.My(M())
    my.hide.append("secretpw123")
    with pytest.raises(R.Failed) as exc:
        my.run("change master to master_password = 'secretpw123'")
    assert "secretpw123" not in str(exc.value) and "********" in str(exc.value)


def test_reachability_names_why_not():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                                        # nothing listens there now
    why = R.tcp_reachable("127.0.0.1", port, timeout=2)
    assert why and "Connection refused" in why
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    try:
        assert R.tcp_reachable("127.0.0.1", srv.getsockname()[1], timeout=2) is None
    finally:
        srv.close()


def test_module_passes_ansible_sanity_of_its_documentation():
    p = subprocess.run([sys.executable, "-c", "import yaml, govcloud_my_repl as R; yaml.safe_load(R.DOCUMENTATION)"],
                       cwd=PB / "library", capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
