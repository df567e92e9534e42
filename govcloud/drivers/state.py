"""Open the state backend an operator chose: ``--state URL``, else ``GOVCLOUD_STATE``, else ``file:``.

* ``file:`` / ``file:///DIR`` — :class:`govcloud.store.filestate.FileState` (this machine);
* ``postgresql://…`` / ``postgres://…`` — :class:`govcloud.drivers.pgstate.PostgresState`
  (every operator that points at the same database).

A URL that is neither is refused (:class:`StateError`, exit code 1) naming it with any password
removed — a state URL may carry credentials, which never reach the screen or a log.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from govcloud.base.i18n import Msg
from govcloud.store.state import StateError, StatePort

__all__ = ["open_state", "chosen_url", "display_url", "ENV"]

ENV = "GOVCLOUD_STATE"
DEFAULT = "file:"
_HINT = Msg("use --state file: (this machine, the default), file:///DIR or postgresql://HOST/DB "
            "(or set GOVCLOUD_STATE)")


def chosen_url(url: str | None) -> str:
    if url is not None and url.strip():
        return url.strip()
    env = os.environ.get(ENV)
    return env.strip() if env and env.strip() else DEFAULT


_SECRET_PARAMS = {"password", "sslpassword"}


def display_url(url: str) -> str:
    """``url`` as it may be shown: without the password in its user part or in its query (libpq takes
    ``?password=`` too); the user name, host, database and the other parameters stay (they tell
    which role and which database). The one redaction of a state URL (the backends show theirs with it)."""
    from urllib.parse import parse_qsl, urlencode
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None or ":" in netloc.rpartition("@")[0]:
            user = parts.username or ""
            host = netloc.rpartition("@")[2]
            netloc = f"{user}@{host}" if user else host
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(k.lower() in _SECRET_PARAMS for k, _ in pairs):
                query = urlencode([(k, v) for k, v in pairs if k.lower() not in _SECRET_PARAMS], safe="/")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "<unreadable URL>"


def open_state(url: str | None = None) -> StatePort:
    """The state backend of ``url`` (see the module doc)."""
    raw = chosen_url(url)
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise StateError(Msg("the state URL contains control characters"), hint=_HINT)
    try:
        scheme = urlsplit(raw).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme == "file":
        from govcloud.store.filestate import FileState
        try:
            return FileState(raw)
        except StateError as exc:
            exc.hint = exc.hint or _HINT
            raise
    if scheme in ("postgresql", "postgres"):
        try:
            from govcloud.drivers.pgstate import PostgresState  # type: ignore[import-not-found]
        except ImportError as exc:
            raise StateError(Msg("the PostgreSQL state backend is not available here: {reason}",
                                 reason=str(exc)), hint=_HINT) from None
        return PostgresState(raw)
    raise StateError(Msg("unknown state URL {url!r}", url=display_url(raw)), hint=_HINT)
