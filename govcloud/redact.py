"""Keep credentials off screens, logs, journals and artefacts.

``scrub`` removes what commonly carries a secret in the text of an exception or a URL from
keystoneauth, openstacksdk, requests, paramiko or Ansible: the user:password part of a URL,
``password=…``/``"password": "…"``/``token: …`` pairs, Authorization/X-Auth-Token headers, and
the literal values of secrets known to this process (``OS_PASSWORD`` and the like, and the
passwords of the clouds.yaml in use). Applied at the CLI's error boundary, to the debug log and to
every journal entry.
"""

from __future__ import annotations

import os
import re
from typing import Any

MASK = "***"

_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/\s@'\"<>]+)@")
_KEY = (r"password|passwd|secret|token|api[_-]?key|apikey|auth[_-]?token|credential|private[_-]?key|"
        r"application_credential_secret|client_secret|access[_-]?key|passphrase")
# "password": "x" / 'password': 'x' / password=x / password: x / --password x
_PAIR_QUOTED = re.compile(rf"""(?i)(?P<k>["']?(?:[\w-]*?(?:{_KEY}))["']?\s*[:=]\s*)(?P<q>["'])(?P<v>(?:\\.|(?!(?P=q)).)*)(?P=q)""")
_PAIR_BARE = re.compile(rf"""(?i)(?P<k>\b(?:[\w-]*?(?:{_KEY}))\s*[=:]\s*)(?P<v>[^\s,;&'"}}\])]+)""")
_HEADER = re.compile(r"(?i)\b(authorization|x-auth-token|x-subject-token|x-service-token)(\s*[:=]\s*)"
                     r"(?:(bearer|basic)\s+)?[^\s,;'\"}]+")
_SECRET_ENV = re.compile(r"(?i)(PASSWORD|PASSWD|SECRET|TOKEN|PASSPHRASE|API_?KEY|CREDENTIAL)")
_MIN_LITERAL = 4  # shorter values are too likely to be ordinary words


def known_secrets() -> list[str]:
    """Values of secret-looking environment variables (OS_PASSWORD, …), longest first."""
    found = {v for k, v in os.environ.items() if _SECRET_ENV.search(k) and v and len(v) >= _MIN_LITERAL}
    found |= _registered
    return sorted(found, key=len, reverse=True)


_registered: set[str] = set()


def register(secret: str | None) -> None:
    """Remember a secret this process handles (a clouds.yaml password) so it is always masked."""
    if secret and len(secret) >= _MIN_LITERAL:
        _registered.add(secret)


def scrub(text: Any) -> str:
    """``text`` with credentials masked."""
    s = text if isinstance(text, str) else str(text)
    if not s:
        return s
    s = _URL_USERINFO.sub(lambda m: m.group("scheme") + MASK + "@", s)
    s = _HEADER.sub(lambda m: m.group(1) + m.group(2) + (m.group(3) + " " if m.group(3) else "") + MASK, s)
    s = _PAIR_QUOTED.sub(lambda m: m.group("k") + m.group("q") + MASK + m.group("q"), s)
    s = _PAIR_BARE.sub(lambda m: m.group("k") + MASK, s)
    for secret in known_secrets():
        if secret in s:
            s = s.replace(secret, MASK)
        # URL-encoded forms travel in URLs and query strings
        from urllib.parse import quote
        enc = quote(secret, safe="")
        if enc != secret and enc in s:
            s = s.replace(enc, MASK)
    return s


def scrub_data(value: Any) -> Any:
    """``scrub`` applied to every string inside dicts/lists/tuples (journal entries)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and _SECRET_ENV.search(k) and isinstance(v, str) and v
                    else scrub_data(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub_data(v) for v in value)
    return value
