#!/usr/bin/env bash
# Build (once, cached) the read-only Debian 12 root filesystem that every test host
# and every bridged Nova server mounts as the lower layer of its own overlayfs.
#   output: $GOVCLOUD_HARNESS_CACHE/rootfs   (default /opt/govcloud-harness/rootfs)
# A stamp file records what went in, so a changed package list rebuilds and an
# unchanged one costs nothing.  Needs debootstrap and the Debian mirror only.
set -euo pipefail
CACHE=${GOVCLOUD_HARNESS_CACHE:-/opt/govcloud-harness}
ROOTFS=$CACHE/rootfs
MIRROR=${GOVCLOUD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PKGS_BASE="openssh-server,openssh-client,sudo,python3,python3-apt,rsync,iproute2,procps,sqlite3,less,ca-certificates,tini,curl"
# postgresql/mariadb/nginx go in with apt inside the chroot (debootstrap does not resolve
# their full dependency set reliably with --variant=minbase)
PKGS_EXTRA="nginx-light postgresql-15 postgresql-client-15 mariadb-server mariadb-client"
STAMP="v2|$PKGS_BASE|$PKGS_EXTRA"

if [ -f "$ROOTFS/.gct-stamp" ] && [ "$(cat "$ROOTFS/.gct-stamp")" = "$STAMP" ]; then
  echo "rootfs up to date: $ROOTFS"; exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
R=$ROOTFS.tmp
cleanup() { umount "$R/proc" 2>/dev/null || true; }
trap cleanup EXIT
umount "$R/proc" 2>/dev/null || true
rm -rf "$R"; mkdir -p "$CACHE"
debootstrap --variant=minbase --include="$PKGS_BASE" bookworm "$R" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
  || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
# never start services while installing into the chroot
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"; chmod +x "$R/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$R/etc/resolv.conf"
mount --bind /proc "$R/proc"
chroot "$R" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS_EXTRA" >>"$CACHE/debootstrap.log" 2>&1
umount "$R/proc"
: > "$R/etc/resolv.conf"
chroot "$R" apt-get clean
rm -rf "$R"/var/lib/apt/lists/*
# sudo user; '*' (not '!') so that public-key login works for a password-less account
chroot "$R" useradd -m -s /bin/bash -G sudo govcloud
chroot "$R" usermod -p '*' govcloud
echo 'govcloud ALL=(ALL) NOPASSWD:ALL' > "$R/etc/sudoers.d/govcloud"; chmod 440 "$R/etc/sudoers.d/govcloud"
# host keys are generated per host; never share the ones debootstrap made
rm -f "$R"/etc/ssh/ssh_host_*
cat > "$R/etc/ssh/sshd_config.d/govcloud.conf" <<'CONF'
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
MaxStartups 200:30:400
MaxSessions 50
CONF
# PID 1 of every host is tini; this script starts sshd, the host's services and
# its role's first-boot scripts, then idles.  There is no systemd in a test host:
# services are driven through /etc/init.d (Ansible's service module handles that).
cat > "$R/sbin/gct-init" <<'INIT'
#!/bin/sh
mkdir -p /run/sshd
for s in $(cat /etc/gct-services 2>/dev/null); do /etc/init.d/$s start >/var/log/gct-$s.log 2>&1; done
for f in /etc/gct-init.d/*; do [ -x "$f" ] && "$f" >>/var/log/gct-role.log 2>&1; done
# sshd last: "answers SSH" then also means "services and role are ready"
/usr/sbin/sshd -E /var/log/sshd.log
exec sleep infinity
INIT
chmod +x "$R/sbin/gct-init"
echo "$STAMP" > "$R/.gct-stamp"
rm -rf "$ROOTFS"; mv "$R" "$ROOTFS"
trap - EXIT
du -sh "$ROOTFS"
