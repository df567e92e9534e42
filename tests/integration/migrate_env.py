"""A small inventory whose servers are real test hosts, for end-to-end migration tests.

Each system runs the bundled sample workload (nginx + PostgreSQL database + data directory)
on one test host; the cloud zone maps to the harness's bridged network, flavors and images,
so `plan generate` puts them in one batch and `migrate run` moves them onto Nova servers.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import textwrap
from functools import lru_cache
from pathlib import Path

APPROVERS = ("集成测试", "审批人")  # the names the tests approve with (`plan approve --by`)


@lru_cache(maxsize=None)
def approver_key() -> Path:
    """A throw-away ed25519 key (no passphrase) that the test inventories list as their approvers'
    key: `plan approve PLAN --by 集成测试 --key approver_key()`. One per test process."""
    d = Path(tempfile.mkdtemp(prefix="govcloud-approver-"))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "govcloud-test-approver",
                    "-f", str(d / "id_ed25519")], check=True)
    return d / "id_ed25519"


def approvers_yaml(indent: str = "    ") -> str:
    """The ``approvers:`` of a policy listing APPROVERS with approver_key()'s public key."""
    pub = approver_key().with_name("id_ed25519.pub").read_text(encoding="utf-8").strip()
    rows = "".join(f"{indent}  - {{name: {n}, ssh_key: {json.dumps(pub)}}}\n" for n in APPROVERS)
    return f"{indent}approvers:\n{rows}"


def approve_args(plan: Path | str, by: str = APPROVERS[0]) -> list[str]:
    """The arguments of `govcloud plan approve` signing ``plan`` with the test approver's key."""
    return ["plan", "approve", str(plan), "--by", by, "--key", str(approver_key())]

ROOT = """\
format_version: 1
inventory:
  name: 迁移演练市
  region: "441600"
  as_of: 2026-01-01
  default_policy: drill
regions:
  - {code: "441600", name: 迁移演练市, level: prefecture}
organizations:
  - {id: org-drill, name: 迁移演练市数据局, short_name: 数据局, org_type: gov_component, region: "441600"}
machine_rooms:
  - {id: room-drill, name: 数据局自建机房, owner_org: org-drill, room_type: dept_self_built, built_on: 2012-05-01}
cloud_platforms:
  - {id: gc, name: 演练政务云, tier: municipal, cloud: govcloud-test}
cloud_zones:
  - id: z1
    platform: gc
    name: 政务外网资源池
    network_zone: gov_extranet
    extranet_area: private_vpn
    mlps_level: 3
    dr_mode: realtime_offsite_ha
    network: govcloud-net
    capacity: {vcpus: 400, ram_gb: 800, storage_gb: 20000}
    flavors:
      - {name: m1.small, vcpus: 1, ram_gb: 2}
      - {name: c2.m4, vcpus: 2, ram_gb: 4}
    images:
      - {name: Debian-12-x86_64, os_distribution: debian, os_version: "12"}
policies:
  - id: drill
    name: 迁移演练
    start: {start}
    final_deadline: 2030-12-31
"""


def system_yaml(n: int, host: str, addr: str, client: str) -> str:
    return textwrap.dedent(f"""\
      - id: app{n}
        name: 演练业务系统{n}
        owner_org: org-drill
        network_zone: gov_extranet
        extranet_area: private_vpn
        mlps_level: 2
        mlps_status: filed
        importance: ordinary
        servers: [{host}]
        workload:
          data_paths: [/srv/govapp, /etc/nginx/sites-enabled]
          services:
            - {{name: nginx, port: 80, health_path: /api/stats.json}}
            - {{name: postgresql, port: 5432}}
          databases:
            - {{engine: postgresql, name: govapp}}
          cutover_record: {{name: app{n}.drill.gov.test, clients: [{client}]}}
    """)


def server_yaml(host: str, addr: str) -> str:
    return (f"  - {{id: {host}, hostname: {host}, machine_room: room-drill, kind: vm, ips: [{addr}], cores: 1, "
            f"ram_gb: 2, os_distribution: debian, os_version: '12', disks: [{{size_gb: 10}}]}}\n")


def write_inventory(root: Path, sources: list[tuple[str, str]], client: tuple[str, str], *, start: str,
                    max_downtime_s: int | None = None) -> Path:
    """``sources``: (host name, address) per system; ``client`` holds the cutover records;
    ``max_downtime_s``: the policy's approved cutover downtime."""
    root.mkdir(parents=True, exist_ok=True)
    text = ROOT.replace("{start}", start)
    if max_downtime_s is not None:
        text += f"    thresholds: {{cutover_max_downtime_s: {int(max_downtime_s)}}}\n"
    (root / "inventory.yaml").write_text(text + approvers_yaml(), encoding="utf-8")
    servers = "".join(server_yaml(h, a) for h, a in sources + [client])
    systems = "".join(textwrap.indent(system_yaml(n, h, a, client[0]), "") for n, (h, a) in enumerate(sources, 1))
    (root / "departments").mkdir(exist_ok=True)
    (root / "departments" / "drill.yaml").write_text(
        "format_version: 1\nservers:\n" + servers + "systems:\n" + systems, encoding="utf-8")
    return root
