"""A private ssh-agent for one migration run.

Ansible, and rsync on the targets through agent forwarding, authenticate with the key the
operator names; the key itself never leaves this process's agent — no key path or secret in
runner artefacts, extravars or command lines on remote hosts.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from govcloud.errors import GovcloudError


@contextmanager
def private_agent(key: Path | None) -> Iterator[str]:
    """Yield an SSH_AUTH_SOCK holding ``key`` (or the caller's agent when no key is given)."""
    if key is None:
        sock = os.environ.get("SSH_AUTH_SOCK")
        if not sock:
            raise GovcloudError("no --key given and no ssh-agent running (SSH_AUTH_SOCK is unset)")
        yield sock
        return
    if not Path(key).is_file():
        raise GovcloudError(f"--key {key}: no such file")
    out = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, timeout=10)
    sock_m = re.search(r"SSH_AUTH_SOCK=([^;]+);", out.stdout)
    pid_m = re.search(r"SSH_AGENT_PID=(\d+);", out.stdout)
    if out.returncode != 0 or not sock_m or not pid_m:
        raise GovcloudError("cannot start ssh-agent", hint="is openssh-client installed?")
    sock, pid = sock_m.group(1), int(pid_m.group(1))
    try:
        env = {**os.environ, "SSH_AUTH_SOCK": sock}
        env.pop("DISPLAY", None)
        env.pop("SSH_ASKPASS", None)
        add = subprocess.run(["ssh-add", "-q", str(key)], env=env, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=20)
        if add.returncode != 0:
            raise GovcloudError(f"cannot load the key {key} into the run's ssh-agent",
                                hint="a passphrase-protected key must be loaded in your own agent; omit --key")
        yield sock
    finally:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def public_key(key: Path) -> str:
    pub = Path(str(key) + ".pub")
    if pub.is_file():
        return pub.read_text(encoding="utf-8").strip()
    out = subprocess.run(["ssh-keygen", "-y", "-f", str(key)], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=10)
    if out.returncode != 0:
        raise GovcloudError(f"cannot read the public part of {key}")
    return out.stdout.strip()
