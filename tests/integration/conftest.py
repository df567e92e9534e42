"""Session fixtures for the real harness (harness/README.md).

* ``test_hosts``    SSH test hosts started by ``harness/hosts`` (>= 80 hosts, 2 with role webapp)
* ``openstack_cloud`` the OpenStack control plane started by ``harness/openstack``
* ``bridged_cloud`` the cloud plus ``harness/bridge`` (ACTIVE servers answer SSH)
* ``state_db``      the state PostgreSQL started by ``harness/statedb`` (its URL)
* ``fresh_state_db``  a throw-away database on it (its URL; dropped after the test)

A harness that is already up (e.g. started by .ci/run via harness/ci-up.sh) is
reused.  Otherwise, with GOVCLOUD_HARNESS_AUTOSTART=1 or CI set, the first
fixture that finds a piece missing runs harness/ci-up.sh (apt packages, caches,
OpenStack, hosts, bridge: ~5 min cold) and harness/ci-down.sh runs at the end of
the session.  Without either, the tests are skipped with the reason - unless
GOVCLOUD_REQUIRE_HARNESS=1 is set: then a missing prerequisite is a loud failure.
With CI set any skipped integration test fails the session.
"""
from __future__ import annotations

import atexit
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import harness_sharing

# The state's per-system locks and claims (store/state.py): the suite migrates systems with the same
# ids (app1, app2, …) under many plan ids, so each test (and the module fixtures before it) gets its
# own files state — never the account's ~/.local/state/govcloud, never another test's claims. A test
# of the state itself passes --state explicitly.
_SESSION_STATE = tempfile.mkdtemp(prefix="govcloud-it-state-")
os.environ["GOVCLOUD_STATE"] = "file://" + _SESSION_STATE
atexit.register(shutil.rmtree, _SESSION_STATE, True)


@pytest.fixture(autouse=True)
def _own_state(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("GOVCLOUD_STATE", "file://" + str(tmp_path_factory.mktemp("state")))


@pytest.fixture(scope="module")
def module_state(tmp_path_factory):
    """A module fixture's own files state, for the runs it makes before its tests: a plan an earlier
    module left holding app1 (a failback keeps its target, so its claim stays) is never seen here,
    and this module's claims never reach the next module. Each test still gets its own (_own_state)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GOVCLOUD_STATE", "file://" + str(tmp_path_factory.mktemp("module-state")))
    yield
    mp.undo()


REPO = Path(__file__).resolve().parents[2]
HARNESS = REPO / "harness"
STATE = Path(os.environ.get("GOVCLOUD_HARNESS_STATE", "/var/lib/govcloud-harness"))
HOSTS_N = 80          # h1..h80; the paramiko test needs 50; `harness/hosts up 80 --role webapp:2`
WEBAPP_N = 2


def harness_required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("GOVCLOUD_REQUIRE_HARNESS") == "1"


def autostart() -> bool:
    return os.environ.get("GOVCLOUD_HARNESS_AUTOSTART") == "1" or bool(os.environ.get("CI"))


_ci_up_done: list[bool] = []   # [True] once this session ran harness/ci-up.sh


def start_harness() -> None:
    """Bring the whole harness up once per session (idempotent: what runs already is kept).

    Under pytest-xdist the two integration streams (tests/conftest.py) may both find it missing:
    they take turns on a lock, and the second's ci-up.sh finds everything up. The marker tells the
    run's first process (xdist's controller, or this one with -n0) to stop it when the whole run
    is over, never when one worker is (tests/conftest.py pytest_sessionfinish)."""
    if _ci_up_done:
        return
    if os.geteuid() != 0:
        pytest.fail("starting the harness needs root (network namespaces, apt)", pytrace=False)
    with open(harness_sharing.lock_path(), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = sh("bash", str(HARNESS / "ci-up.sh"), timeout=2400)
        if p.returncode != 0:
            pytest.fail(f"harness/ci-up.sh failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}", pytrace=False)
        harness_sharing.marker(harness_sharing.run_owner_pid()).touch()
    _ci_up_done.append(True)


def missing(what: str) -> None:
    """Skip (developer machine) or fail loudly (CI / GOVCLOUD_REQUIRE_HARNESS=1)."""
    if harness_required():
        pytest.fail(f"integration harness prerequisite missing: {what}", pytrace=False)
    pytest.skip(f"{what} (start it with harness/ci-up.sh, or set GOVCLOUD_HARNESS_AUTOSTART=1; "
                f"unit tests alone: pytest tests/unit)")


def sh(*cmd: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, text=True, capture_output=True, timeout=timeout)


# ---------------------------------------------------------------- test hosts
@dataclass
class HostsHarness:
    dir: Path
    hosts: list[dict]

    @property
    def key(self) -> Path:
        return self.dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.dir / "known_hosts"

    @property
    def inventory_ini(self) -> Path:
        return self.dir / "inventory.ini"

    @property
    def inventory_yml(self) -> Path:
        return self.dir / "inventory.yml"

    def by_role(self, role: str) -> list[dict]:
        return [h for h in self.hosts if h.get("role") == role]

    def plain(self) -> list[dict]:
        return [h for h in self.hosts if not h.get("role")]

    def client(self, host: dict, user: str = "govcloud"):
        """paramiko client with strict host-key checking against the generated known_hosts."""
        import paramiko
        c = paramiko.SSHClient()
        c.load_host_keys(str(self.known_hosts))
        c.set_missing_host_key_policy(paramiko.RejectPolicy())
        c.connect(host["addr"], username=user, key_filename=str(self.key), look_for_keys=False,
                  allow_agent=False, timeout=20, banner_timeout=30, auth_timeout=30)
        return c


def _hosts_ok(min_n: int) -> tuple[bool, str]:
    p = sh(str(HARNESS / "hosts"), "status", "--json", timeout=60)
    if p.returncode != 0:
        return False, "test hosts are not up (harness/hosts status)"
    info = json.loads(p.stdout)
    hosts = info["hosts"]
    webapp = [h for h in hosts if h.get("role") == "webapp"]
    if len(hosts) < min_n or len(webapp) < WEBAPP_N:
        return False, f"test hosts up but too few: {len(hosts)} hosts/{len(webapp)} webapp " \
                      f"(need {min_n}/{WEBAPP_N}: harness/hosts up {min_n} --role webapp:{WEBAPP_N})"
    return True, ""


@pytest.fixture(scope="session")
def test_hosts() -> HostsHarness:
    if os.geteuid() != 0:
        missing("test hosts need root (network/pid/mount namespaces)")
    ok, why = _hosts_ok(HOSTS_N)
    if not ok:
        if not autostart():
            missing(f"test hosts not available: {why}")
        start_harness()
    d = STATE / "hosts"
    yield HostsHarness(d, json.loads((d / "hosts.json").read_text()))


# ---------------------------------------------------------------- OpenStack
@dataclass
class Cloud:
    clouds_yaml: Path
    member_cloud: str = "govcloud-test"
    admin_cloud: str = "govcloud-admin"
    _conns: dict = field(default_factory=dict)

    def connect(self, cloud: str | None = None, **kw):
        import openstack
        return openstack.connect(cloud=cloud or self.member_cloud, **kw)

    @property
    def admin(self):
        if "admin" not in self._conns:
            self._conns["admin"] = self.connect(self.admin_cloud)
        return self._conns["admin"]

    @property
    def member(self):
        if "member" not in self._conns:
            self._conns["member"] = self.connect(self.member_cloud)
        return self._conns["member"]


def _openstack_up() -> bool:
    return sh(str(HARNESS / "openstack"), "status", timeout=60).returncode == 0


@pytest.fixture(scope="session")
def openstack_cloud() -> Cloud:
    try:
        import openstack  # noqa: F401
    except ImportError:
        missing("openstacksdk not installed (pip install -e '.[test]')")
    if not _openstack_up():
        if not autostart():
            missing("OpenStack harness is not up (harness/openstack up)")
        start_harness()
    cy = STATE / "openstack" / "clouds.yaml"
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(cy)
    yield Cloud(cy)


@dataclass
class BridgedCloud:
    cloud: Cloud
    known_hosts: Path
    network: str = "govcloud-net"


@pytest.fixture(scope="session")
def bridged_cloud(openstack_cloud) -> BridgedCloud:
    if os.geteuid() != 0:
        missing("the bridge needs root (network/pid/mount namespaces)")
    if sh(str(HARNESS / "bridge"), "status", timeout=60).returncode != 0:
        if not autostart():
            missing("harness bridge is not running (harness/bridge up)")
        start_harness()
    yield BridgedCloud(openstack_cloud, STATE / "bridge" / "known_hosts")


@pytest.fixture(scope="session")
def rehearsal_cloud(bridged_cloud) -> BridgedCloud:
    """The isolated network ``govcloud-rehearsal`` (198.19.200.0/24, no gateway, no router): its
    ACTIVE servers become hosts of the bridge's rehearsal pool (bridge gcxbr0 with its guard: the
    control node reaches them over SSH, they reach nothing but each other). ``bridged_cloud`` has
    checked ``harness/bridge status``, which fails when the guard is not exactly in place."""
    yield BridgedCloud(bridged_cloud.cloud, STATE / "rehearsal" / "known_hosts", network="govcloud-rehearsal")


# ---------------------------------------------------------------- DNS + load balancer
@pytest.fixture(scope="session")
def netsvc(test_hosts) -> dict:
    """BIND9 for gov.test (TSIG updates) and HAProxy on the test hosts' gateway (harness/netsvc)."""
    if sh(str(HARNESS / "netsvc"), "status", timeout=60).returncode != 0:
        if not autostart():
            missing("harness DNS/HAProxy are not running (harness/netsvc up)")
        start_harness()
    d = STATE / "netsvc"
    return {"dns": "198.18.0.1:53", "key": d / "tsig.key", "api": str(d / "haproxy.sock"), "hosts": test_hosts}


# ---------------------------------------------------------------- state PostgreSQL
@pytest.fixture(scope="session")
def state_db() -> str:
    """The URL of the state database (harness/statedb): postgresql://govcloud@127.0.0.1:15432/
    govcloud_state?passfile=… — the password is in the passfile only."""
    if sh(str(HARNESS / "statedb"), "status", timeout=60).returncode != 0:
        if not autostart():
            missing("the harness state PostgreSQL is not running (harness/statedb up)")
        start_harness()
    p = sh(str(HARNESS / "statedb"), "env", timeout=60)
    return p.stdout.strip().split("=", 1)[1]


@pytest.fixture
def fresh_state_db(state_db) -> str:
    """The URL of a new, empty database on the state PostgreSQL (the harness role may CREATEDB),
    dropped after the test: a test on it never sees another run's journal, locks or claims (the
    shared ``govcloud_state`` keeps every plan's claims of app1/app2/… until released)."""
    from integration_helpers import throwaway_database
    yield from throwaway_database(state_db, "gct")
