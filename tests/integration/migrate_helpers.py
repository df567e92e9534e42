"""Helpers for the migration-role tests and bench/bench_sync.py: an ssh-agent holding the harness
key, the runner inventory exactly as the orchestrator writes it (groups source/target/clients,
reverse tunnel and forwarded agent on target connections), plain SSH to test hosts, and a
read-only fingerprint of a source's data tree."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO / "playbooks"
HSTATE = Path(os.environ.get("GOVCLOUD_HARNESS_STATE", "/var/lib/govcloud-harness")) / "hosts"


@dataclass
class Agent:
    """ssh-agent + a ControlPath directory of its own.  SSH masters (ControlPersist) remember the
    agent they were started with and carry the reverse tunnel: a master left over from an earlier
    agent would forward a dead agent, so masters live and die with their agent."""
    sock: str
    pid: int
    cp_dir: str

    @property
    def envvars(self) -> dict[str, str]:
        return {"SSH_AUTH_SOCK": self.sock, "ANSIBLE_SSH_CONTROL_PATH_DIR": self.cp_dir}

    def stop(self) -> None:
        for s in Path(self.cp_dir).glob("*"):
            subprocess.run(["ssh", "-O", "exit", "-o", f"ControlPath={s}", "x"], capture_output=True, timeout=30)
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        shutil.rmtree(os.path.dirname(self.sock), ignore_errors=True)


def start_agent(key: Path) -> Agent:
    d = tempfile.mkdtemp(prefix="govcloud-agent-")
    sock = os.path.join(d, "agent.sock")
    out = subprocess.run(["ssh-agent", "-s", "-a", sock], check=True, capture_output=True, text=True).stdout
    pid = int(re.search(r"SSH_AGENT_PID=(\d+)", out).group(1))
    agent = Agent(sock, pid, os.path.join(d, "cp"))
    os.mkdir(agent.cp_dir, 0o700)
    p = subprocess.run(["ssh-add", "-q", str(key)], env={**os.environ, "SSH_AUTH_SOCK": sock},
                       capture_output=True, text=True)
    if p.returncode != 0:
        agent.stop()
        raise RuntimeError(f"ssh-add failed: {p.stderr.strip()}")
    return agent


def known_line(addr: str) -> str:
    lines = [ln for ln in (HSTATE / "known_hosts").read_text().splitlines()
             if addr in ln.split(" ", 1)[0].split(",")]
    if not lines:
        raise LookupError(f"{addr} not in {HSTATE / 'known_hosts'}")
    return "\n".join(lines)


def host_vars(addr: str) -> dict:
    """Connection vars of one host as the orchestrator sets them: strict host-key checking, our
    known_hosts, key from the agent (no key path)."""
    return {"ansible_host": addr, "ansible_user": "govcloud",
            "ansible_ssh_common_args": f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={HSTATE / 'known_hosts'} "
                                       f"-o BatchMode=yes -o ConnectTimeout=10"}


def runner_inventory(path: Path, sources: dict[str, str], targets: dict[str, tuple[str, str]],
                     clients: dict[str, str], tunnel_base: int = 22000) -> Path:
    """sources/clients: name -> address; targets: name -> (address, source name)."""
    tg = {}
    for name, (addr, src) in targets.items():
        port = tunnel_base + int(ipaddr_last(addr))
        v = host_vars(addr)
        v.update({
            "govcloud_source": src, "govcloud_source_address": sources[src], "govcloud_source_port": 22,
            "govcloud_source_user": "govcloud", "govcloud_source_known_hosts": known_line(sources[src]),
            "govcloud_tunnel_port": port,
            "ansible_ssh_extra_args": f"-o ForwardAgent=yes -R 127.0.0.1:{port}:{sources[src]}:22",
        })
        tg[name] = v
    inv = {"all": {"vars": {"ansible_python_interpreter": "/usr/bin/python3"}, "children": {
        "source": {"hosts": {n: host_vars(a) for n, a in sources.items()}},
        "target": {"hosts": tg},
        "clients": {"hosts": {n: host_vars(a) for n, a in clients.items()}},
    }}}
    path.write_text(yaml.safe_dump(inv, sort_keys=False, allow_unicode=True))
    return path


def ipaddr_last(addr: str) -> str:
    return addr.rsplit(".", 1)[1]


def ssh(host: str, cmd: str, check: bool = True, timeout: float = 300, input: bytes | None = None) -> subprocess.CompletedProcess:
    """Plain SSH as the test harness sets it up (its ssh_config: key, strict known_hosts)."""
    p = subprocess.run(["ssh", "-F", str(HSTATE / "ssh_config"), host, cmd], capture_output=True,
                       timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise AssertionError(f"ssh {host} {cmd!r}: rc {p.returncode}\n{p.stderr.decode(errors='replace')[-2000:]}")
    return p


def sudo_py(host: str, code: str, check: bool = True) -> str:
    return ssh(host, "sudo -n python3 -c " + shlex.quote(code), check=check).stdout.decode()


TREE_HASH = r"""
import hashlib, os, stat, sys
h = hashlib.sha256(); n = 0
for top in sys.argv[1:]:
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in [''] + sorted(files + dirs):
            p = os.path.join(root, name) if name else root
            st = os.lstat(p)
            rec = [p, oct(st.st_mode), st.st_uid, st.st_gid, st.st_nlink]
            if not stat.S_ISDIR(st.st_mode):
                rec.append(st.st_mtime_ns)
            if stat.S_ISREG(st.st_mode):
                fd = os.open(p, os.O_RDONLY | os.O_NOATIME)
                with os.fdopen(fd, 'rb') as f:
                    rec.append(hashlib.sha256(f.read()).hexdigest())
                n += 1
            elif stat.S_ISLNK(st.st_mode):
                rec.append(os.readlink(p))
            for x in sorted(os.listxattr(p, follow_symlinks=False)):
                rec.append((x, os.getxattr(p, x, follow_symlinks=False)))
            h.update(repr(rec).encode())
print(h.hexdigest(), n)
"""


def tree_hash(host: str, *paths: str) -> str:
    """Fingerprint of data trees (paths, modes, owners, link counts, mtimes, contents, xattrs)."""
    return ssh(host, "sudo -n python3 -c " + shlex.quote(TREE_HASH) + " " + " ".join(map(shlex.quote, paths))).stdout.decode().strip()


class Migration:
    """The migration playbooks run as the orchestrator runs them, on one source/target/client trio:
    every run is wrapped by a fingerprint of the source's data trees, which must not change."""

    def __init__(self, tmp: Path, src: str, tgt: str, cli: str | None, addr: dict[str, str],
                 trees: list[str], extravars: dict):
        from govcloud.drivers.ansible import run_playbook
        self._run = run_playbook
        self.tmp, self.src, self.trees, self.extravars = tmp, src, trees, extravars
        self.agent = start_agent(HSTATE / "id_ed25519")
        self.inventory = runner_inventory(tmp / "runner-inventory.yml", {src: addr[src]}, {tgt: (addr[tgt], src)},
                                          {cli: addr[cli]} if cli else {})
        self.n = 0

    def play(self, name: str, *, source_may_change: bool = False, check: bool = False, limit: str | None = None,
             **extra):
        """Run playbooks/NAME.yml; the source's data trees must be exactly the same afterwards."""
        before = tree_hash(self.src, *self.trees)
        self.n += 1
        r = self._run(PLAYBOOKS / f"{name}.yml", self.inventory, limit=limit, extravars={**self.extravars, **extra},
                      envvars=self.agent.envvars, private_data_dir=self.tmp / f"run-{self.n:02d}-{name}",
                      check=check, diff=check)
        if not source_may_change:
            assert tree_hash(self.src, *self.trees) == before, f"{name} changed the source's data trees"
        return r
