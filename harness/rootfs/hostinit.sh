#!/usr/bin/env bash
# PID 1 of a fresh pid+mount+uts+ipc namespace, already inside the host's own
# network namespace (started by testhosts.py through `ip netns exec ... unshare`).
# Mounts the host's copy-on-write root, puts the per-host files in place,
# pivots into it and execs tini -> /sbin/gct-init.
#   args: HOSTDIR NAME ROOTFS
# HOSTDIR holds: ssh_host_ed25519_key{,.pub}, authorized_keys, etc_hosts, resolv.conf (optional),
# services (optional), overlay/ (optional: role files copied over the root).
set -euo pipefail
H=$1 NAME=$2 ROOTFS=$3
M=$H/merged
mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$H/upper,workdir=$H/work" "$M"
hostname "$NAME"
echo "$NAME" > "$M/etc/hostname"
cp "$H/etc_hosts" "$M/etc/hosts"
[ -f "$H/resolv.conf" ] && cp "$H/resolv.conf" "$M/etc/resolv.conf"
install -m 600 "$H/ssh_host_ed25519_key" "$M/etc/ssh/ssh_host_ed25519_key"
install -m 644 "$H/ssh_host_ed25519_key.pub" "$M/etc/ssh/ssh_host_ed25519_key.pub"
for u in govcloud root; do
  home=$(chroot "$M" getent passwd $u | cut -d: -f6)
  chroot "$M" install -d -m 700 -o $u -g $u "$home/.ssh"
  install -m 600 "$H/authorized_keys" "$M$home/.ssh/authorized_keys"
  chroot "$M" chown $u:$u "$home/.ssh/authorized_keys"
done
[ -f "$H/services" ] && cp "$H/services" "$M/etc/gct-services"
[ -d "$H/overlay" ] && cp -a --remove-destination "$H/overlay/." "$M/"
# kernel filesystems for the guest
mount -t proc proc "$M/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$M/sys"
mount -t tmpfs -o mode=755,size=16m,nosuid tmpfs "$M/dev"
for d in null zero full random urandom tty; do touch "$M/dev/$d"; mount --bind /dev/$d "$M/dev/$d"; done
mkdir -p "$M/dev/pts" "$M/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$M/dev/pts"
ln -s pts/ptmx "$M/dev/ptmx"
mount -t tmpfs -o size=256m,nosuid,nodev tmpfs "$M/dev/shm"
ln -s /proc/self/fd "$M/dev/fd"; ln -s fd/0 "$M/dev/stdin"; ln -s fd/1 "$M/dev/stdout"; ln -s fd/2 "$M/dev/stderr"
mount -t tmpfs -o mode=755,size=64m,nosuid,nodev tmpfs "$M/run"
mkdir -p "$M/run/lock" "$M/run/sshd" "$M/run/postgresql"; chmod 1777 "$M/run/lock"
chroot "$M" chown postgres:postgres /run/postgresql 2>/dev/null || true
cd "$M"
mkdir -p .oldroot
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot
exec /usr/bin/tini -- /sbin/gct-init
