"""A private ssh-agent for one migration run.

Ansible, and rsync on the targets through agent forwarding, authenticate with the key the
operator names; the key itself never leaves this process's agent — no key path or secret in
runner artefacts, extravars or command lines on remote hosts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from govcloud.base.i18n import Msg
from govcloud.errors import GovcloudError


@contextmanager
def private_agent(key: Path | None) -> Iterator[str]:
    """Yield an SSH_AUTH_SOCK holding ``key`` (or the caller's agent when no key is given)."""
    if key is None:
        sock = os.environ.get("SSH_AUTH_SOCK")
        if not sock:
            raise GovcloudError(Msg("no --key given and no ssh-agent running (SSH_AUTH_SOCK is unset)"))
        yield sock
        return
    if not Path(key).is_file():
        raise GovcloudError(Msg("--key {key}: no such file", key=key))
    import tempfile
    home = tempfile.mkdtemp(prefix="gc-agent-")
    sock = os.path.join(home, "agent.sock")
    # the kernel ends the agent (and the key it holds) when the run dies, even by SIGKILL: a
    # parent-death signal — set on a small shell that owns the agent, because ssh-agent is
    # set-group-id and exec of such a program clears the parent-death signal
    import signal

    from govcloud.base.proc import set_pdeathsig
    keeper = ('ssh-agent -D -a "$1" </dev/null >/dev/null 2>&1 & a=$!; '
              'trap \'kill $a 2>/dev/null; wait $a; exit 0\' TERM HUP INT; wait $a')
    agent = subprocess.Popen(["sh", "-c", keeper, "gc-agent", sock], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=lambda: set_pdeathsig(signal.SIGTERM))
    try:
        deadline = time.monotonic() + 20      # a loaded machine may take seconds to start it
        while not os.path.exists(sock):
            if agent.poll() is not None:
                raise GovcloudError(Msg("cannot start ssh-agent"), hint=Msg("is openssh-client installed?"))
            if time.monotonic() > deadline:
                raise GovcloudError(Msg("cannot start ssh-agent"), hint=Msg("the machine may be overloaded; try again"))
            time.sleep(0.02)
        env = {**os.environ, "SSH_AUTH_SOCK": sock}
        env.pop("DISPLAY", None)
        env.pop("SSH_ASKPASS", None)
        while True:
            add = subprocess.run(["ssh-add", "-q", str(key)], env=env, capture_output=True, text=True,
                                 stdin=subprocess.DEVNULL, timeout=20)
            # the socket exists from bind(); under load the agent may not listen yet: try again
            # while ssh-add cannot reach it (a key it cannot read fails at once, every time)
            if add.returncode != 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if add.returncode != 0:
            raise GovcloudError(Msg("cannot load the key {key} into the run's ssh-agent", key=key),
                                hint=Msg("a passphrase-protected key must be loaded in your own agent; omit --key"))
        yield sock
    finally:
        agent.terminate()
        try:
            agent.wait(5)
        except subprocess.TimeoutExpired:
            agent.kill()
        shutil.rmtree(home, ignore_errors=True)


def public_key(key: Path) -> str:
    pub = Path(str(key) + ".pub")
    if pub.is_file():
        return pub.read_text(encoding="utf-8").strip()
    out = subprocess.run(["ssh-keygen", "-y", "-f", str(key)], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=10)
    if out.returncode != 0:
        raise GovcloudError(Msg("cannot read the public part of {key}", key=key))
    return out.stdout.strip()
