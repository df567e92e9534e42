#!/usr/bin/env bash
# harness/ci-down.sh - tear down everything ci-up.sh (or a developer) started:
# state PostgreSQL, DNS/HAProxy, bridge (both its pools, the rehearsal guard with its bridge), test hosts, OpenStack.  Safe to call at any point, also after a
# half-way failure or twice: every step works from what was recorded (pid
# files, host.json) and skips what does not exist.  Caches are kept.
#   GOVCLOUD_HARNESS_PURGE=1  also delete the OpenStack state dir
# Exit status 1 only if something we started is still there afterwards.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${GOVCLOUD_HARNESS_STATE:-/var/lib/govcloud-harness}"
rc=0
t0=${EPOCHREALTIME/./}
"$HERE/statedb" down || { echo "ci-down: statedb down failed" >&2; rc=1; }
"$HERE/netsvc" down || { echo "ci-down: netsvc down failed" >&2; rc=1; }
"$HERE/bridge" down || { echo "ci-down: bridge down failed" >&2; rc=1; }
"$HERE/hosts" down || { echo "ci-down: hosts down failed" >&2; rc=1; }
"$HERE/openstack" down || { echo "ci-down: openstack down failed" >&2; rc=1; }
# what is left that we would have created?
left=$(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^(gctbr0|gcbbr0|gcxbr0|gcrt0|gcrb0|gch[0-9]+|gcb[0-9a-f]{8}|gcx[0-9a-f]{8})(@|$)' || true)
left+=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^(gct-|gcb-|gcx-|gcr-)' || true)
[ -n "$left" ] && { echo "ci-down: left over: $left" >&2; rc=1; }
d=$(( ${EPOCHREALTIME/./} - t0 ))
echo "ci-down: done in $((d/1000000)).$(( (d%1000000)/100000 )) s (rc=$rc)"
exit $rc
