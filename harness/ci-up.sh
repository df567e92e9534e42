#!/usr/bin/env bash
# harness/ci-up.sh - bring the whole integration harness up on a fresh (or warm)
# CI machine: Debian packages, cached rootfs + OpenStack venv, OpenStack, N test
# hosts, the Nova->SSH bridge, DNS/HAProxy, the state PostgreSQL.  Prints a timings table.  Root, no stdin.
#   GOVCLOUD_CI_HOSTS  number of test hosts [64]  (2 of them get role webapp)
# Pair it with harness/ci-down.sh (safe after a half-way failure).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${GOVCLOUD_HARNESS_STATE:-/var/lib/govcloud-harness}"
N="${GOVCLOUD_CI_HOSTS:-80}"
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$STATE"
TIMINGS="$STATE/ci-timings.txt"; : > "$TIMINGS"
now() { echo "${EPOCHREALTIME/./}"; }
T_ALL=$(now)
phase_t=""
record() { local d=$(( $(now) - $2 )); printf '%-34s %7d.%01d\n' "$1" $((d/1000000)) $(( (d%1000000)/100000 )) >> "$TIMINGS"; }
table() {
  echo "---- harness timings (s) ----"
  cat "$TIMINGS"
  echo "-----------------------------"
}
fail() {
  echo "ci-up: FAILED in phase '$1'" >&2
  table >&2
  for f in "$STATE"/openstack/log/seed.log "$STATE"/bridge.log; do
    [ -f "$f" ] && { echo "== tail $f" >&2; tail -20 "$f" >&2; }
  done
  exit 1
}

# 1. Debian packages (skipped when all are installed already: warm runs)
# chromium + CJK fonts: the report tests render in a real headless browser
# bind9 + haproxy (+ dnsutils): the DNS and load-balancer records a cutover switches (harness/netsvc)
# postgresql-15: the shared state backend's database (harness/statedb; Debian's own cluster is not used)
PKGS=(mariadb-server rabbitmq-server iproute2 debootstrap openssh-client rsync curl procps util-linux chromium fonts-noto-cjk
      bind9 bind9-dnsutils haproxy postgresql-15)
t=$(now)
missing=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${PKGS[@]}" 2>&1 | grep -v '^installed ' || true)
if [ -n "$missing" ]; then
  # keep Debian's maintainer scripts from starting mariadb/rabbitmq with their own configs
  prc=/usr/sbin/policy-rc.d; made_prc=0
  if [ ! -e $prc ]; then printf '#!/bin/sh\nexit 101\n' > $prc; chmod +x $prc; made_prc=1; fi
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null; } || fail apt
  [ $made_prc = 1 ] && rm -f $prc
fi
record "apt packages" "$t"

# 2. cached artefacts, built in parallel (both are mostly download + unpack)
t=$(now)
"$HERE/rootfs/build-rootfs.sh" > "$STATE/ci-rootfs.log" 2>&1 & p_rootfs=$!
"$HERE/openstack" install > "$STATE/ci-os-install.log" 2>&1 & p_venv=$!
wait $p_rootfs || { tail -20 "$STATE/ci-rootfs.log" >&2; fail "rootfs build"; }
record "test-host rootfs (cached)" "$t"
wait $p_venv || { tail -20 "$STATE/ci-os-install.log" >&2; fail "OpenStack venv"; }
record "OpenStack venv (cached)" "$t"

# 3. OpenStack and the test hosts side by side (hosts need little CPU)
t=$(now)
"$HERE/hosts" up "$N" --role webapp:2 > "$STATE/ci-hosts.log" 2>&1 & p_hosts=$!
"$HERE/openstack" up || fail "openstack up"
record "openstack up" "$t"
wait $p_hosts || { cat "$STATE/ci-hosts.log" >&2; fail "hosts up"; }
record "hosts up ($N, parallel to openstack)" "$t"

# 4. the bridge (govcloud-net's servers as hosts; govcloud-rehearsal's clones on the guarded,
#    isolated pool: up also replaces a daemon running older code, keeping the bridged hosts)
t=$(now)
"$HERE/bridge" up || fail "bridge up"
"$HERE/bridge" status || fail "bridge status (rehearsal guard)"
record "bridge up (+ rehearsal guard)" "$t"

# 5. BIND9 (zone gov.test, TSIG updates) and HAProxy on the test hosts' gateway
t=$(now)
"$HERE/netsvc" up > "$STATE/ci-netsvc.log" 2>&1 || { cat "$STATE/ci-netsvc.log" >&2; fail "netsvc up"; }
record "dns + load balancer up" "$t"

# 6. PostgreSQL for govcloud's shared state (--state postgresql://…)
t=$(now)
"$HERE/statedb" up > "$STATE/ci-statedb.log" 2>&1 || { cat "$STATE/ci-statedb.log" >&2; fail "statedb up"; }
record "state database up" "$t"
record "TOTAL" "$T_ALL"
table
echo "memory: $(free -m | awk '/^Mem:/{print $3 " MiB used of " $2}')"
echo "export OS_CLIENT_CONFIG_FILE=$STATE/openstack/clouds.yaml OS_CLOUD=govcloud-test"
"$HERE/netsvc" env
"$HERE/statedb" env
