"""Heartbeat-only stand-in for neutron-openvswitch-agent (run in the OpenStack venv).

ML2's openvswitch mechanism driver binds a port only on a host with a live
"Open vSwitch agent".  This reports one, over the real neutron RPC
(q-reports-plugin / report_state), so binding succeeds (vif_type=ovs).  It
programs nothing: nova's fake driver never plugs VIFs either; the harness
bridge (harness/bridge) gives servers their real addresses instead.

    python fake_ovs_agent.py HOST --config-file neutron.conf
"""
import sys
import time

from neutron.agent import rpc as agent_rpc
from neutron.api.rpc.callbacks import resources
from neutron.common import config as common_config
from neutron.conf.agent import common as agent_conf
from neutron_lib import context
from neutron_lib import rpc as n_rpc
from neutron_lib.agent import topics
from oslo_config import cfg

host = sys.argv[1]
common_config.register_common_config_options()
agent_conf.register_agent_state_opts_helper(cfg.CONF)
cfg.CONF(sys.argv[2:], project="neutron")
# report_interval is also the RPC call timeout: short, so that a report sent
# before neutron-rpc-server consumes its queue is retried quickly
cfg.CONF.set_override("report_interval", 5, "AGENT")
n_rpc.init(cfg.CONF)
api = agent_rpc.PluginReportStateAPI(topics.REPORTS)
ctx = context.get_admin_context_without_session()
state = {"binary": "neutron-openvswitch-agent", "host": host, "topic": "N/A",
         "agent_type": "Open vSwitch agent", "start_flag": True,
         "resource_versions": resources.LOCAL_RESOURCE_VERSIONS,
         "configurations": {"bridge_mappings": {"public": "br-ex", "physnet-bridge": "br-govcloud"},
                            "tunnel_types": ["vxlan"], "tunneling_ip": "127.0.0.1",
                            "integration_bridge": "br-int", "datapath_type": "system",
                            "ovs_hybrid_plug": False, "l2_population": False,
                            "enable_distributed_routing": False,
                            "ovs_capabilities": {"datapath_types": ["system"],
                                                 "iface_types": ["internal", "vxlan"]}}}
while True:
    try:
        api.report_state(ctx, state, use_call=True)
        state.pop("start_flag", None)
        print(time.strftime("%H:%M:%S"), "reported", flush=True)
    except Exception as e:  # server not up yet, rabbit blip...
        print(time.strftime("%H:%M:%S"), "report failed:", e, flush=True)
        time.sleep(1)
        continue
    time.sleep(20)
