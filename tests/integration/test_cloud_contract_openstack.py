"""The CloudPort contract (tests/conformance/cloud_contract.py) on the harness's real OpenStack,
through drivers.openstack.OpenStackCloud — the same tests the in-memory cloud passes in
tests/unit/test_cloud_contract_fake.py. Each test uses a fresh plan id and removes what it made."""

from __future__ import annotations

import contextlib
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conformance.cloud_contract import *  # noqa: E402,F401,F403 — the one suite, collected here
from conformance.cloud_contract import Env  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.openstack]


@pytest.fixture
def cloud(openstack_cloud):
    from govcloud.drivers.openstack import OpenStackCloud
    return OpenStackCloud.connect(openstack_cloud.member_cloud, config_file=str(openstack_cloud.clouds_yaml))


@pytest.fixture
def env(cloud):
    e = Env(plan_id="cf-" + uuid.uuid4().hex[:8], network="govcloud-net", flavor="c2.m4", image="Debian-12-x86_64")
    yield e
    for kp in list(cloud.conn.compute.keypairs()):       # keypairs are not per system: by name
        if kp.name.startswith(e.plan_id):
            with contextlib.suppress(Exception):
                cloud.conn.compute.delete_keypair(kp.name, ignore_missing=True)
