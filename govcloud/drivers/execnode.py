"""Playbooks run on an execution node: ansible-runner's streaming mode over SSH.

The control node packs the run (``ansible_runner.run(streamer='transmit')``: the job's arguments and
the private data directory — project, inventory, extravars — as one stream), sends it over SSH into
``ansible-runner worker`` on the node, which runs ansible-playbook there and streams events, status
and artefacts back; ``ansible_runner.run(streamer='process')`` on the control node turns that stream
into the same private data directory, events and artefacts a local run leaves. This is how AWX/AAP
run jobs on execution nodes (through Receptor); here the transport is one SSH connection.

So the migration data flows between the node and the hosts of its network (sources, targets), never
through the control node: the control node carries the stream (the job in, events out).

Security: the node reaches the hosts with the run's ssh-agent forwarded over its SSH connection (no
private key is copied); the node's own host key is checked strictly (the inventory's ``host_key`` or
the operator's known_hosts file); the hosts' known_hosts files travel inside the job and the
inventory's paths are rewritten to the node's copy; nothing secret is on a command line (the remote
command is the runner's path and the job directory, both validated inventory values / govcloud's own).
The controller's SSH_AUTH_SOCK and PATH are not sent: the worker uses the forwarded agent's socket
and the node's runner environment.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any, Callable

from govcloud.drivers.ports import ExecNode, PlaybookRun

__all__ = ["Node", "prepare_job", "run_on_node", "ssh_argv", "worker_command"]

# envvars that name things on the control node only: never sent to the node
_LOCAL_ONLY = ("SSH_AUTH_SOCK", "PATH", "ANSIBLE_SSH_CONTROL_PATH_DIR")
_KNOWN_OPT = "UserKnownHostsFile="


Node = ExecNode      # the record the executor hands over (drivers/ports.py)


def ssh_argv(node: Node, *, forward_agent: bool = True) -> list[str]:
    """ssh to the node: strict host key, key from the agent only, the agent forwarded (the node's
    playbooks reach the hosts with it), no connection sharing, no pty (a binary stream)."""
    return ["ssh", "-T", "-x", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={node.known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "PasswordAuthentication=no", "-o", f"ForwardAgent={'yes' if forward_agent else 'no'}",
            "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "ConnectTimeout=15",
            "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4", "-o", "Compression=no",
            "-p", str(int(node.port)), "-l", node.user, node.address]


def worker_command(node: Node, ident: str) -> str:
    """The remote command (one shell line; every value quoted): the worker unpacks the job in its own
    directory and deletes it when the job ends. ``--keepalive-seconds``: the worker writes to the
    stream at least every 15 s, so when the control node's connection is gone (the run killed) its
    next write fails and it ends, even in the middle of a long rsync task. Then whatever of the job
    still runs — ansible-playbook and its forks (``-i <job>/inventory.yml``), the SSH masters to the
    hosts (``UserKnownHostsFile=<job>/known_hosts/…``) — is ended and the directory removed when the
    worker ends, or when sshd hangs the session up. Known limit (README): with the control node
    SIGKILLed mid-step, an ansible-playbook already running on the node was seen to finish its
    current task before it went. (The ``[i]``/``[k]`` keep the pattern from matching this shell's
    own command line.)"""
    if not re.fullmatch(r"[0-9a-f]{32}", ident):
        raise ValueError(f"bad job id {ident!r:.40}")
    d = shlex.quote(f"{node.work_dir}/{ident}")
    worker = " ".join(shlex.quote(w) for w in (node.runner, "worker", "--private-data-dir"))
    return (f"d={d}; gc_end() {{ pkill -KILL -f -- \"$d/([i]nventory[.]yml|[k]nown_hosts/)\" 2>/dev/null; "
            f"rm -rf -- \"$d\"; }}; trap 'gc_end; exit 129' HUP TERM; "
            f"{worker} \"$d\" --delete --keepalive-seconds 15; rc=$?; gc_end; exit $rc")


def prepare_job(pdd: Path, playbook: Path, inventory: dict[str, Any], node: Node, ident: str) -> tuple[str, dict[str, Any]]:
    """Lay out ``pdd`` for a streamed job: the playbook's directory (roles, modules, filters) as the
    project, the known_hosts files the inventory names copied in and their paths rewritten to where
    the worker unpacks them. Returns the playbook's path in the project and the rewritten inventory."""
    project = pdd / "project"
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(Path(playbook).resolve().parent, project, symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    remote = f"{node.work_dir}/{ident}"
    kdir = pdd / "known_hosts"
    kdir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}

    def copied(local: str) -> str:
        if local not in files:
            n = f"k{len(files)}"
            try:
                data = Path(local).read_bytes()
            except OSError:
                data = b""          # ssh then refuses the host: strict checking holds on the node too
            (kdir / n).write_bytes(data)
            files[local] = f"{remote}/known_hosts/{n}"
        return files[local]

    def rewrite(text: str) -> str:
        # the words as ssh gets them (Ansible splits these args with shlex), rewritten, quoted again
        words = shlex.split(text)
        for i, w in enumerate(words):
            if w.startswith(_KNOWN_OPT):
                words[i] = _KNOWN_OPT + copied(w[len(_KNOWN_OPT):])
        return " ".join(shlex.quote(w) for w in words)

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: (rewrite(x) if k == "ansible_ssh_common_args" and isinstance(x, str) else walk(x))
                    for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return os.path.relpath(Path(playbook).resolve(), Path(playbook).resolve().parent), walk(inventory)


def node_envvars(envvars: dict[str, str], node: Node, ident: str) -> dict[str, str]:
    """The job's environment on the node: the controller-only names dropped, the node's runner
    first on PATH, SSH control sockets inside the job's directory (removed with it)."""
    out = {k: v for k, v in envvars.items() if k not in _LOCAL_ONLY}
    out["PATH"] = os.pathsep.join([node.bin_dir, "/usr/local/bin", "/usr/bin", "/bin"])
    if "ANSIBLE_SSH_CONTROL_PATH_DIR" in envvars:
        out["ANSIBLE_SSH_CONTROL_PATH_DIR"] = f"{node.work_dir}/{ident}/cp"
    return out


def _stats_of(event: dict[str, Any]) -> dict[str, dict[str, int]]:
    data = event.get("event_data") or {}
    return {k: dict(data[k]) for k in ("ok", "changed", "failures", "dark", "skipped", "ignored", "rescued", "processed")
            if isinstance(data.get(k), dict)}


def run_on_node(node: Node, playbook: Path, inventory: dict[str, Any], *, private_data_dir: Path,
                limit: str | None, extravars: dict[str, Any], check: bool, timeout: int, forks: int,
                envvars: dict[str, str], on_task: Callable[[str, str], None] | None = None,
                ssh: Callable[[Node, str], list[str]] | None = None) -> PlaybookRun:
    """Run ``playbook`` on ``node`` (transmit → ssh → worker → process). ``envvars`` must hold the
    run's SSH_AUTH_SOCK: it authenticates the SSH connection to the node and is forwarded there.
    ``ssh(node, remote_command) → argv`` replaces the transport (unit tests run the worker locally)."""
    import ansible_runner

    from govcloud.base.atomic import write_atomic
    from govcloud.drivers.ansible import reduce_run, task_started, unsafe_yaml, write_inventory

    pdd = Path(private_data_dir)
    pdd.mkdir(parents=True, exist_ok=True)
    ident = uuid.uuid4().hex
    rel_playbook, inv = prepare_job(pdd, playbook, inventory, node, ident)
    write_inventory(pdd / "inventory.yml", inv)
    for stale in ("extravars", "envvars"):
        (pdd / "env" / stale).unlink(missing_ok=True)
    if extravars:
        write_atomic(pdd / "env" / "extravars", unsafe_yaml(extravars))
    cmdline = "--check --diff" if check else None
    env = node_envvars(envvars, node, ident)
    env.update({"ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0"})
    remote = worker_command(node, ident)
    argv = ssh(node, remote) if ssh else ssh_argv(node) + [remote]
    local_env = {**os.environ, "SSH_AUTH_SOCK": envvars.get("SSH_AUTH_SOCK", "")}
    counts = {"sent": 0, "received": 0}

    # the job is packed first (a file: its size is what the control node sends), then fed to ssh
    fd, name = tempfile.mkstemp(prefix="govcloud-job-")     # outside the job directory it packs
    job = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            ansible_runner.run(private_data_dir=str(pdd), playbook=str(pdd / "project" / rel_playbook),
                               inventory=str(pdd / "inventory.yml"), limit=limit, cmdline=cmdline, timeout=timeout,
                               forks=forks, envvars=env, ident=ident, quiet=True, streamer="transmit", _output=out)
    except BaseException:
        job.unlink(missing_ok=True)
        raise
    counts["sent"] = job.stat().st_size
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=local_env, start_new_session=False)
    err: list[bytes] = []


    def send() -> None:
        try:
            with open(job, "rb") as f:
                shutil.copyfileobj(f, proc.stdin, 1 << 20)
        except OSError:
            pass                # the worker or ssh ended early: the processor reports it
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass
            job.unlink(missing_ok=True)

    # what comes back is relayed through a pipe, counted on the way (the processor reads a plain file)
    rfd, wfd = os.pipe()

    def relay() -> None:
        with os.fdopen(wfd, "wb") as w:
            while True:
                b = proc.stdout.read1(1 << 16)
                if not b:
                    break
                counts["received"] += len(b)
                try:
                    w.write(b)
                    w.flush()
                except OSError:
                    break

    def drain() -> None:
        err.append(proc.stderr.read(64 * 1024))
        proc.stderr.read()

    threads = [threading.Thread(target=f, daemon=True) for f in (send, relay, drain)]
    for th in threads:
        th.start()
    events: list[dict[str, Any]] = []
    stats: dict[str, dict[str, int]] = {}

    def on_event(event: dict[str, Any]) -> bool:
        nonlocal stats
        events.append(event)
        if event.get("event") == "playbook_on_stats":
            stats = _stats_of(event)
        task_started(on_task, event)
        return True

    watchdog = threading.Timer(timeout + 120, proc.kill)
    watchdog.daemon = True
    watchdog.start()
    try:
        with os.fdopen(rfd, "rb") as back:
            p = ansible_runner.run(private_data_dir=str(pdd), ident=ident, quiet=True, streamer="process",
                                   event_handler=on_event, _input=back)
        status = p.status
    finally:
        watchdog.cancel()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for th in threads:
            th.join(timeout=10)
    artifact_dir = pdd / "artifacts" / ident
    rc = _artifact_rc(artifact_dir)
    if rc is None:
        rc = proc.returncode if proc.returncode not in (None, 0) else 1
        status = "failed" if status in ("successful", None) else status
    ssh_err = b"".join(err).decode("utf-8", "replace").strip()
    run = reduce_run(rc, status or "failed", stats, str(artifact_dir), events)
    run.node = {"id": node.id, "address": node.address, "sent": counts["sent"], "received": counts["received"],
                "ssh_rc": proc.returncode, "ssh_error": ssh_err[-500:] if rc else ""}
    if not events and rc:
        run.failed_tasks.setdefault(node.id, []).append(
            f"execution node {node.id} ({node.address}): {ssh_err[-300:] or 'no events from the worker'}")
    return run


def _artifact_rc(artifact_dir: Path) -> int | None:
    try:
        return int((artifact_dir / "rc").read_text().strip())
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------- preparing a node (offline install)
#
# A node gets ansible-core and ansible-runner of exactly the versions the control node runs, the
# way a site without Internet access on its department networks does it: wheels downloaded on the
# control node (cached), copied over the node's SSH connection, installed into a venv with
# ``pip --no-index`` from those files only. The venv is the runner's parent directory
# (``/opt/govcloud-node`` for the default ``/opt/govcloud-node/bin/ansible-runner``).

RUNNER_PACKAGES = ("pip", "ansible-core", "ansible-runner")


class PrepareError(Exception):
    """Preparing a node failed: ``stage`` (download | connect | install | check) and the tool's words."""

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(f"{stage}: {detail}")
        self.stage, self.detail = stage, detail


def runner_versions() -> dict[str, str]:
    from importlib.metadata import version
    return {p: version(p) for p in RUNNER_PACKAGES}


def wheel_dir(cache: Path, versions: dict[str, str]) -> Path:
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    return Path(cache) / ("-".join(f"{p}{v}" for p, v in versions.items()) + "-" + tag)


def download_wheels(cache: Path, constraints: Path | None = None, timeout: float = 900) -> tuple[Path, bool]:
    """The wheels of RUNNER_PACKAGES at the control node's versions (and their dependencies), in a
    directory of ``cache`` named by those versions; downloaded once (into a staging directory,
    renamed when complete). Returns (directory, downloaded now)."""
    versions = runner_versions()
    dest = wheel_dir(cache, versions)
    if (dest / ".complete").is_file():
        return dest, False
    Path(cache).mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".stage-", dir=cache))
    try:
        argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                "--only-binary=:all:", "--dest", str(stage), *[f"{p}=={v}" for p, v in versions.items()]]
        if constraints is not None and Path(constraints).is_file():
            argv += ["--constraint", str(constraints)]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise PrepareError("download", (p.stderr or p.stdout).strip()[-600:])
        (stage / ".complete").write_text("\n".join(f"{k}=={v}" for k, v in versions.items()) + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        os.rename(stage, dest)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    return dest, True


def install_script(node: Node, versions: dict[str, str]) -> str:
    """The remote shell script that installs from the wheels tar on its stdin (every value quoted)."""
    if not node.runner.endswith("/bin/ansible-runner"):
        raise PrepareError("install", f"runner {node.runner!r:.80} is not <venv>/bin/ansible-runner")
    venv = node.runner[: -len("/bin/ansible-runner")] or "/"
    pins = " ".join(shlex.quote(f"{p}=={v}") for p, v in versions.items())
    q = shlex.quote
    return "\n".join([
        "set -eu",
        "d=$(mktemp -d /tmp/govcloud-wheels.XXXXXX)",
        "trap 'rm -rf \"$d\"' EXIT",
        "tar -C \"$d\" -xf -",
        f"venv={q(venv)}",
        "[ -x \"$venv/bin/python\" ] || sudo -n python3 -m venv --without-pip \"$venv\"",
        "pipwhl=$(ls \"$d\"/pip-*.whl | head -n 1)",
        f"sudo -n \"$venv/bin/python\" \"$pipwhl/pip\" install --quiet --no-index --no-cache-dir "
        f"--disable-pip-version-check --find-links \"$d\" --upgrade {pins}",
        f"sudo -n install -d -m 0700 -o \"$(id -un)\" {q(node.work_dir)}",
        f"{q(node.runner)} worker --worker-info",
        f"\"$venv/bin/ansible-playbook\" --version | head -n 1",
    ])


def prepare_node(node: Node, cache: Path, *, envvars: dict[str, str], constraints: Path | None = None,
                 timeout: float = 900) -> dict[str, Any]:
    """Install ansible-core + ansible-runner on ``node`` offline (see above); idempotent. Returns what
    was installed and what the node's runner reports (``worker --worker-info``)."""
    import io
    import tarfile

    import yaml
    wheels, fresh = download_wheels(cache, constraints)
    versions = runner_versions()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for f in sorted(wheels.glob("*.whl")):
            tar.add(f, arcname=f.name)
    argv = ssh_argv(node, forward_agent=False) + ["sh", "-c", shlex.quote(install_script(node, versions))]
    env = {**os.environ, "SSH_AUTH_SOCK": envvars.get("SSH_AUTH_SOCK", "")}
    try:
        p = subprocess.run(argv, input=buf.getvalue(), capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise PrepareError("install", f"no answer from {node.address} within {timeout:.0f} s") from None
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace").strip()
    if p.returncode == 255:
        raise PrepareError("connect", err[-600:])
    if p.returncode != 0:
        raise PrepareError("install", err[-600:] or out[-600:])
    lines = out.strip().splitlines()
    try:
        info = yaml.safe_load("\n".join(lines[:-1])) or {}
    except yaml.YAMLError:
        info = {}
    if not isinstance(info, dict) or info.get("runner_version") != versions["ansible-runner"]:
        raise PrepareError("check", f"the node's runner reports {str(info)[:200]}, expected ansible-runner "
                                    f"{versions['ansible-runner']}")
    return {"node": node.id, "address": node.address, "venv": node.runner[: -len("/bin/ansible-runner")],
            "versions": versions, "wheels": str(wheels), "downloaded": fresh,
            "wheel_bytes": sum(f.stat().st_size for f in wheels.glob("*.whl")),
            "runner_version": info.get("runner_version"), "cpu_count": info.get("cpu_count"),
            "ansible": lines[-1] if lines else ""}
