"""A batched migration plan (分批次迁移上云计划): what the planner decides and people approve. No I/O.

Every system of the inventory appears exactly once: in a batch (with its strategy,
target and sizing), in ``retained`` (stays where it is, with the reason) or in
``unscheduled`` (cannot be planned without breaking a rule, with every reason).
Reasons are kept per decision so ``plan explain`` can answer "why".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from govcloud.model.enums import Strategy

PLAN_FORMAT_VERSION = 1


@dataclass(slots=True)
class ServerPlacement:
    server: str
    flavor: str | None
    vcpus: int
    ram_gb: float
    disk_gb: float
    image: str | None
    sized_from: str  # "declared" or "observed p95 +headroom"


@dataclass(slots=True)
class PlanItem:
    system: str
    name: str
    owner_org: str
    strategy: Strategy
    move_group: str
    target_zone: str | None            # None for retire
    servers: tuple[ServerPlacement, ...] = ()
    cutover: date | None = None        # the day the system switches over (inside the batch window)
    requires: tuple[str, ...] = ()     # prerequisites: superior approval, OS migration, MLPS assessment …
    reasons: dict[str, list[str]] = field(default_factory=dict)  # decision → why (strategy, group, batch, zone, flavor, image)

    @property
    def vcpus(self) -> int:
        return sum(p.vcpus for p in self.servers)

    @property
    def ram_gb(self) -> float:
        return sum(p.ram_gb for p in self.servers)

    @property
    def disk_gb(self) -> float:
        return sum(p.disk_gb for p in self.servers)

    @property
    def primary(self) -> ServerPlacement | None:
        """The largest placement: the flavor and image a one-line summary shows."""
        return max(self.servers, key=lambda p: (p.vcpus, p.ram_gb, p.server), default=None)


@dataclass(slots=True)
class PlanBatch:
    id: str
    name: str
    start: date
    end: date                           # last cutover day of the batch
    deadline: date | None               # the binding policy deadline of what it holds
    policy_batch: str | None            # the policy's migration batch it serves (e.g. M1)
    pilot: bool
    items: list[PlanItem] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # hard rules checked for this batch

    @property
    def servers(self) -> int:
        return sum(len(i.servers) for i in self.items)


@dataclass(slots=True)
class Retained:
    system: str
    name: str
    owner_org: str
    reason_code: str
    reason: str


@dataclass(slots=True)
class Unscheduled:
    system: str
    name: str
    owner_org: str
    strategy: Strategy | None
    reasons: list[str]


@dataclass(slots=True)
class RoomClosure:
    room: str
    name: str
    empty_by: date | None               # None: something stays (retained/unscheduled systems)
    blocked_by: tuple[str, ...] = ()    # systems that keep it open
    deadline: date | None = None        # the room's lease expiry or closure date, whichever comes first
    deadline_kind: str = ""             # "lease_expiry" or "closure_date"

    @property
    def deadline_missed(self) -> bool:
        """Flagged: the room is not empty by its lease expiry or closure date."""
        return self.deadline is not None and (self.empty_by is None or self.empty_by > self.deadline)


@dataclass(slots=True)
class LowerBound:
    batches: int
    by_throughput: int
    by_takeover: int
    by_dependencies: int
    explanation: str


@dataclass(frozen=True)
class PlanInputs:
    """What a plan records about its inputs in ``settings`` (beside the planner's thresholds), for the
    staleness check: the inventory's digest and, for a plan built with ``--policy FILE``, that file
    (relative to the plan file) and its digest. A value of the wrong type reads as absent."""
    inventory_digest: str | None = None
    policy_file: str | None = None
    policy_digest: str | None = None

    @classmethod
    def from_dict(cls, settings: Any) -> "PlanInputs":
        get = settings.get if isinstance(settings, dict) else (lambda _k: None)
        return cls(*(v if isinstance(v := get(k), str) else None
                     for k in ("inventory_digest", "policy_file", "policy_digest")))

    def to_dict(self) -> dict[str, str]:
        """The settings keys (fixed order, absent ones left out: identical inputs, identical bytes)."""
        return {k: v for k, v in (("inventory_digest", self.inventory_digest), ("policy_file", self.policy_file),
                                  ("policy_digest", self.policy_digest)) if v is not None}


@dataclass
class Plan:
    plan_id: str
    inventory: str                      # path of the inventory, relative to the plan file
    inventory_name: str
    policy: str
    inputs_digest: str
    generator: str
    start: date
    batches: list[PlanBatch] = field(default_factory=list)
    retained: list[Retained] = field(default_factory=list)
    unscheduled: list[Unscheduled] = field(default_factory=list)
    rooms: list[RoomClosure] = field(default_factory=list)
    lower_bound: LowerBound | None = None
    settings: dict[str, object] = field(default_factory=dict)  # the thresholds the plan was built with (+ inputs)

    @property
    def inputs(self) -> PlanInputs:
        """The inputs recorded in ``settings`` as a typed record (the staleness and approval checks read this)."""
        return PlanInputs.from_dict(self.settings)

    def record_inputs(self, inputs: PlanInputs) -> None:
        """Record the plan's inputs in ``settings`` (plan generation, before the plan is written)."""
        self.settings.update(inputs.to_dict())

    def items(self) -> list[PlanItem]:
        return [i for b in self.batches for i in b.items]

    def batch_of(self) -> dict[str, str]:
        return {i.system: b.id for b in self.batches for i in b.items}


# Prerequisites a PlanItem may carry in ``requires`` (each becomes a task before cutover).
REQ_SUPERIOR_APPROVAL = "superior_approval"   # vertical system: the superior department's approval (H-VERT-1)
REQ_OS_MIGRATION = "os_migration"             # EOL OS: move to a supported OS before/while migrating (H-OS-1)
REQ_MLPS_ASSESSMENT = "mlps_assessment"       # MLPS filing/assessment before go-live (H-MLPS-2)
REQ_FENBAO = "fenbao_approval"                # classified: secrecy testing, approval, filing (H-SEC-2)
REQ_REBUILD = "rebuild_for_arch"              # CPU architecture changes: rebuild the artefacts (H-ARCH-1)

# A rehost placement's image may be the server's own disk instead of a zone catalogue image (P2V/V2V).
IMAGE_IMPORT_PREFIX = "import:"               # e.g. "import:centos-7.6"; only valid with strategy rehost (H-TGT-1)


_CODED = re.compile(r"^([A-Za-z][A-Za-z0-9-]*(?:\.[a-z0-9_.]+)?) (\{.*\})$", re.S)


def parse_coded(reason: str) -> tuple[str, dict[str, Any]] | None:
    """``(code, params)`` of a coded reason, or None for free text."""
    m = _CODED.match(reason)
    if not m:
        return None
    try:
        params = json.loads(m.group(2))
    except ValueError:
        return None
    return (m.group(1), params) if isinstance(params, dict) else None


class Why:
    """A reason not yet written out: cheap to make for every zone a placement considers; ``str()`` codes it.
    Nested in another reason it becomes ``{"@": code, …}`` without a round trip through text."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, **params: Any) -> None:
        self.key, self.params = key, params

    def __str__(self) -> str:
        return coded(self.key, **self.params)

    def plain(self) -> dict[str, Any]:
        return {"@": self.key, **{k: _plain(v) for k, v in self.params.items()}}


def _plain(v: Any) -> Any:
    if isinstance(v, str):
        inner = parse_coded(v) if " {" in v else None  # a coded reason nests as {"@": code, …}
        return {"@": inner[0], **inner[1]} if inner else v
    if isinstance(v, (int, float, bool)) or v is None:
        return v
    if isinstance(v, Why):
        return v.plain()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v if isinstance(v, dict) else str(v)


_CACHE: dict[tuple, str] = {}


def coded(key: str, **params: Any) -> str:
    """A reason as a code with parameters, stored as ``"<code> <json>"`` (sorted keys: byte-identical
    plans); govcloud/render/reasons.py words it in Chinese or English. Plans repeat the same reasons
    thousands of times (same zone, same deadline): simple ones are written once."""
    if not params:      # the commonest case, looked up by the code alone
        hit = _CACHE.get(key)   # type: ignore[call-overload]
        if hit is None:
            hit = _CACHE[key] = f"{key} {{}}"   # type: ignore[index]
        return hit
    try:    # a call site passes its parameters in one order: no sorting needed for the key
        cache_key = (key, *params.items())
        hit = _CACHE.get(cache_key)
    except TypeError:  # a list or a nested reason: not cached
        cache_key, hit = None, None
    if hit is not None:
        return hit
    text = f"{key} " + json.dumps({k: _plain(v) for k, v in params.items()}, ensure_ascii=False, sort_keys=True)
    if cache_key is not None and len(_CACHE) < 100_000:
        _CACHE[cache_key] = text
    return text
