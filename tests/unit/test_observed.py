"""Observations as typed records (model/observed.py): discovery writes its utilisation through
Utilization.to_dict and placement sizes from Server.observation — one spelling of the keys."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from govcloud.inventory import discover as d
from govcloud.model.entities import Server
from govcloud.model.enums import OsDistribution
from govcloud.model.observed import Observed, Utilization
from govcloud.planning.placement import _sized


def _srv(observed):
    return Server(id="s", hostname="s", cores=8, ram_gb=32, os_distribution=OsDistribution.debian, observed=observed)


def _ctx(headroom=25):
    return SimpleNamespace(settings=SimpleNamespace(headroom_pct=headroom))


def test_discovery_output_reads_back_as_the_same_record():
    rows = [f"S cpu {100 * i} 0 {50 * i} {1000 * i} 0 0 0 0 MemTotal 1000 MemAvailable {600 - i} t={10 + i}"
            for i in range(8)]
    util = d.parse_utilization("\n".join(rows))
    u = Utilization.from_dict(util)
    assert u.to_dict() == util and list(u.to_dict()) == list(util)           # same keys, same order
    assert u.samples == 8 and u.window_s == 7.0 and u.interval_s == 1.0 and u.p95 == (u.cpu_p95_pct, u.mem_p95_pct)
    obs = Observed.from_dict({"kernel": "6.1", "utilization": {**util, "load_avg": [1, 2, 3]},
                              "_sources": [{"source": "discovery:ssh"}]})
    assert obs.utilization.extra == {"load_avg": [1, 2, 3]} and obs.facts == {"kernel": "6.1"}
    assert obs.sources == ({"source": "discovery:ssh"},)


@pytest.mark.parametrize("observed,want", [
    ({"utilization": {"cpu_p95_pct": 50, "mem_p95_pct": 25}}, (5, 10.0, "observed")),
    ({"cpu_p95_pct": 50, "mem_p95_pct": 25}, (5, 10.0, "observed")),              # flat (older, imported)
    ({"utilization": {"cpu_p95_pct": 50}}, (8, 32, "declared")),                  # memory unknown
    ({"utilization": {"cpu_p95_pct": True, "mem_p95_pct": 25}}, (8, 32, "declared")),   # not a figure
    ({"utilization": {"cpu_p95_pct": float("inf"), "mem_p95_pct": 25}}, (8, 32, "declared")),
    ({"utilization": "high"}, (8, 32, "declared")),
    (None, (8, 32, "declared")),
])
def test_placement_sizes_from_the_observation(observed, want):
    vcpus, ram, why = _sized(_ctx(), _srv(observed))
    assert (vcpus, ram) == want[:2] and why.startswith(want[2])


# ---------------------------------------------------------------- plan inputs (Plan.settings)

def test_plan_inputs_are_a_typed_record_of_settings():
    from govcloud.model.plan import PlanInputs
    settings = {"headroom_pct": 20, "inventory_digest": "sha256:ab", "policy_file": "p.yaml", "policy_digest": "x"}
    i = PlanInputs.from_dict(settings)
    assert i == PlanInputs("sha256:ab", "p.yaml", "x") and i.to_dict() == {k: settings[k] for k in list(settings)[1:]}
    assert PlanInputs.from_dict({"inventory_digest": 5}).inventory_digest is None and PlanInputs.from_dict(None) == PlanInputs()
    assert list(PlanInputs("d").to_dict()) == ["inventory_digest"]


def test_a_plan_file_whose_recorded_inputs_are_not_text_is_refused_by_path():
    from govcloud.store.planfile import PlanShapeError, plain_to_plan
    doc = {"plan_id": "p", "inventory": "i", "policy": "x", "inputs_digest": "d", "start": "2026-01-01",
           "settings": {"policy_file": ["../elsewhere.yaml"]}}
    with pytest.raises(PlanShapeError) as err:
        plain_to_plan(doc)
    assert err.value.where == "settings.policy_file" and "expected text" in str(err.value)
    doc["settings"] = {"policy_file": "p.yaml", "headroom_pct": 20}
    assert plain_to_plan(doc).inputs.policy_file == "p.yaml"
