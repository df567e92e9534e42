"""Why an SSH connection failed: one vocabulary for the paramiko driver, OpenSSH (through
ansible-runner) and every screen that reports it.

Kinds: ``hostkey-changed``, ``hostkey-unknown``, ``auth``, ``timeout``, ``connect``, ``other``
(and ``remote`` when the connection worked but the script failed). Only ``timeout`` and
``connect`` are worth another attempt; a host-key or authentication failure never is.
"""

from __future__ import annotations

from govcloud.base.i18n import Msg

RETRYABLE = frozenset({"timeout", "connect"})

# one line for a person, per kind (never key material)
DESCRIPTIONS = {
    "hostkey-changed": Msg("host key does not match known_hosts (possible man-in-the-middle; refusing)"),
    "hostkey-unknown": Msg("host key not in known_hosts (strict host-key checking; add it with ssh-keyscan after "
                           "verifying)"),
    "auth": Msg("authentication failed (key not accepted)"),
    "timeout": Msg("timed out"),
}

# a few words per kind, for summary tables
LABELS = {"auth": "authentication refused", "hostkey-changed": "host key CHANGED (refused)",
          "hostkey-unknown": "host key unknown", "timeout": "timed out", "connect": "connection failed",
          "remote": "remote script failed", "other": "other error"}

_OPENSSH_NEEDLES = (   # (needle in OpenSSH's / ansible's message, kind), first match wins
    ("REMOTE HOST IDENTIFICATION HAS CHANGED", "hostkey-changed"),
    ("Host key verification failed", "hostkey-unknown"),
    ("Permission denied", "auth"),
    ("Too many authentication failures", "auth"),
    ("timed out", "timeout"),
    ("Connection refused", "connect"),
    ("No route to host", "connect"),
    ("Could not resolve", "connect"),
    ("Connection reset", "connect"),
    ("Connection closed", "connect"),
)


def classify_openssh(msg: str) -> tuple[str, str]:
    """An unreachable host's message from OpenSSH (through ansible) → (kind, one line for a
    person), with the same kinds as the paramiko driver."""
    for needle, kind in _OPENSSH_NEEDLES:
        if needle.lower() in (msg or "").lower():
            if kind in DESCRIPTIONS:
                return kind, DESCRIPTIONS[kind]
            line = next((x for x in msg.splitlines() if needle.lower() in x.lower()), needle)
            return kind, Msg("connection failed: {detail}", detail=line.strip()[:200])
    first = (msg or "").strip().splitlines()
    return "other", (first[0][:200] if first else Msg("unreachable"))
