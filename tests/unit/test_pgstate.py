"""The PostgreSQL state backend's behaviour that needs no server: URLs shown without their
password, and a database that cannot be reached is a StateError with a hint — never a traceback
and never the password. (Everything else runs against the harness PostgreSQL in
tests/integration/test_state_postgres.py.)"""
from __future__ import annotations

import socket

import pytest

from govcloud.drivers.pgstate import PostgresState, journal_line, redact_url
from govcloud.store.state import StateError


def test_redact_url_drops_the_password_only():
    assert redact_url("postgresql://u:pw@h:5432/db?passfile=/x") == "postgresql://u@h:5432/db?passfile=/x"
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact_url("postgresql://:pw@h/db") == "postgresql://h/db"
    assert "pw" not in redact_url("postgres://u:p%40w@h/db")


def test_a_password_given_as_a_parameter_is_never_shown():
    secret = "Param-S3cret-pw"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://govcloud@127.0.0.1:{port}/govcloud_state?password={secret}&connect_timeout=3"
    assert secret not in redact_url(url)
    with pytest.raises(StateError) as ei:
        PostgresState(url)
    assert secret not in f"{ei.value} {ei.value.hint}"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_database_is_a_state_error_without_the_password():
    secret = "Very-S3cret-pw"
    url = f"postgresql://govcloud:{secret}@127.0.0.1:{_closed_port()}/govcloud_state?connect_timeout=3"
    with pytest.raises(StateError) as ei:
        PostgresState(url)
    text = f"{ei.value} {ei.value.hint}"
    assert secret not in text and "cannot connect to the state database postgresql://govcloud@127.0.0.1:" in text
    assert "passfile" in str(ei.value.hint) and ei.value.exit_code == 1
    assert ei.value.__cause__ is None and ei.value.__suppress_context__


def test_a_malformed_url_is_a_state_error():
    with pytest.raises(StateError, match="state URL"):
        PostgresState("postgresql://u:pw@h/db?nosuchoption=1")


def test_journal_line_is_the_files_backends_line():
    assert journal_line({"b": 1, "a": "\u653f\x00"}) == '{"b":1,"a":"\u653f\\u0000"}'
