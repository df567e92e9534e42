"""The one remote script that collects MLPS facts, and the parser of its output (pure).

Facts are collected **once per host** by running ``COLLECT_SCRIPT`` (POSIX sh, read-only)
through ``govcloud.drivers.ssh``; everything after that is pure Python over the recorded
``HostFacts`` so every rule can be tested offline against recorded facts (tests/unit).

The script never emits secrets: ``/etc/shadow`` is reduced on the host to
``name:state:lastchg:min:max:warn:inactive:expire`` where state is ``NP`` (empty password),
``L`` (locked/no password, ``!``/``*``) or ``P`` (a usable password) — the hash itself
never leaves the host, so facts files and evidence can be stored and shared.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FACTS_FORMAT = 1

BEGIN = "@@GOVCLOUD-BEGIN "
END = "@@GOVCLOUD-END "

# Every section is one read-only shell function; ``sec`` bounds its output size so a broken
# host cannot flood the collector (the driver bounds the time of the whole run, and the few
# commands that may hang on a network - dnf/yum - get their own ``timeout``).
COLLECT_SCRIPT = r"""
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 077
T=$(mktemp) || exit 90
trap 'rm -f "$T"' EXIT
TO=""; command -v timeout >/dev/null 2>&1 && TO="timeout 30"
sec() {
  n=$1; shift
  ( "$@" ) >"$T" 2>&1 </dev/null; rc=$?
  printf '%s%s\n' '@@GOVCLOUD-BEGIN ' "$n"
  head -c 131072 "$T"
  printf '\n%s%s rc=%s\n' '@@GOVCLOUD-END ' "$n" "$rc"
}
catf() { for f in "$@"; do [ -f "$f" ] && { echo "## $f"; grep -v '^[[:space:]]*#' "$f" | grep -v '^[[:space:]]*$'; }; done; return 0; }
have() { for c in "$@"; do p=$(command -v "$c" 2>/dev/null) && echo "$c=$p"; done; return 0; }

f_meta() { echo "uid=$(id -u)"; echo "now=$(date +%s)"; echo "hostname=$(hostname)"; echo "kernel=$(uname -r)"; echo "init=$(cat /proc/1/comm 2>/dev/null)"; [ -d /run/systemd/system ] && echo systemd=yes || echo systemd=no; }
f_os_release() { cat /etc/os-release; }
f_login_defs() { grep -E '^[[:space:]]*(PASS_|UMASK|ENCRYPT_METHOD|LOGIN_RETRIES)' /etc/login.defs; }
f_pam() { catf /etc/pam.d/common-password /etc/pam.d/common-auth /etc/pam.d/common-account /etc/pam.d/common-session /etc/pam.d/system-auth /etc/pam.d/password-auth /etc/pam.d/sshd /etc/pam.d/su; }
f_pam_modules() { for d in /lib/security /lib64/security /usr/lib/security /usr/lib64/security /lib/*-linux-gnu/security /usr/lib/*-linux-gnu/security; do [ -d "$d" ] && ls "$d"; done | sort -u; }
f_pwquality() { catf /etc/security/pwquality.conf /etc/security/pwquality.conf.d/*.conf; }
f_faillock() { catf /etc/security/faillock.conf; }
f_shadow() { awk -F: '{s=$2; st=(s==""?"NP":(s ~ /^[!*]/?"L":"P")); print $1":"st":"$3":"$4":"$5":"$6":"$7":"$8}' /etc/shadow; }
f_passwd() { cat /etc/passwd; }
f_sshd() { sshd -T 2>/dev/null || /usr/sbin/sshd -T; }
f_sshd_config() { catf /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf; }
f_profile() { grep -HnE '(^|[^A-Za-z_])(TMOUT|umask)' /etc/profile /etc/profile.d/*.sh /etc/bash.bashrc /etc/environment /etc/csh.cshrc 2>/dev/null; return 0; }
f_sudoers() { catf /etc/sudoers /etc/sudoers.d/*; }
f_perms() { stat -c '%n %a %U %G' /etc/passwd /etc/shadow /etc/group /etc/gshadow /etc/sudoers; }
f_selinux() { have getenforce sestatus; command -v getenforce >/dev/null && echo "mode=$(getenforce)"; catf /etc/selinux/config; return 0; }
f_apparmor() { have apparmor_parser aa-status; echo "module_enabled=$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)"; [ -r /sys/kernel/security/apparmor/profiles ] && echo "enforce_profiles=$(grep -c '(enforce)' /sys/kernel/security/apparmor/profiles)"; return 0; }
f_audit() { have auditd auditctl augenrules; command -v auditctl >/dev/null && { echo '## auditctl -s'; auditctl -s; echo '## auditctl -l'; auditctl -l; }; catf /etc/audit/auditd.conf /etc/audit/audit.rules /etc/audit/rules.d/*.rules; return 0; }
f_processes() { ps -eo comm= | sort -u; }
f_syslog() { have rsyslogd syslog-ng logrotate; catf /etc/rsyslog.conf /etc/rsyslog.d/*.conf /etc/syslog-ng/syslog-ng.conf /etc/audit/plugins.d/au-remote.conf /etc/audisp/plugins.d/au-remote.conf /etc/audit/audisp-remote.conf; return 0; }
f_logrotate() { catf /etc/logrotate.conf /etc/logrotate.d/*; }
f_listening() { ss -H -lntup 2>/dev/null || ss -lntup; }
f_firewall() { have nft iptables-save ip6tables-save firewall-cmd ufw; command -v nft >/dev/null && { echo '## nft'; nft list ruleset; }; command -v iptables-save >/dev/null && { echo '## iptables'; iptables-save; }; command -v firewall-cmd >/dev/null && echo "firewalld=$(firewall-cmd --state 2>&1)"; return 0; }
f_packages() { if command -v dpkg-query >/dev/null; then dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1=="ii"{print $2}'; elif command -v rpm >/dev/null; then rpm -qa --qf '%{NAME}\n'; fi; }
f_updates() {
  if command -v apt-get >/dev/null; then
    n=$(ls /var/lib/apt/lists 2>/dev/null | grep -c '_Packages'); echo "apt_lists=$n"
    [ "$n" -gt 0 ] && { echo "## apt-get -s upgrade"; apt-get -s -o Debug::NoLocking=1 upgrade 2>/dev/null | grep '^Inst'; }
  elif command -v dnf >/dev/null; then echo "## dnf"; $TO dnf -q -C updateinfo list --security 2>&1
  elif command -v yum >/dev/null; then echo "## yum"; $TO yum -q -C updateinfo list security 2>&1
  fi; return 0; }
f_security_tools() { have aide ossec-control wazuh-control clamscan clamd freshclam; ls -d /var/ossec /etc/aide /var/lib/aide /var/lib/clamav 2>/dev/null; ls -l --time-style=+%s /var/lib/clamav/*.c?d 2>/dev/null; return 0; }
f_hosts_access() { catf /etc/hosts.allow /etc/hosts.deny; }
f_backup() { catf /etc/crontab /etc/cron.d/*; ls /etc/cron.daily /etc/cron.weekly 2>/dev/null; crontab -l -u root 2>/dev/null; return 0; }

for s in meta os_release login_defs pam pam_modules pwquality faillock shadow passwd sshd sshd_config profile sudoers perms selinux apparmor audit processes syslog logrotate listening firewall packages updates security_tools hosts_access backup; do
  sec "$s" "f_$s"
done
"""


@dataclass
class Section:
    out: str
    rc: int


@dataclass
class HostFacts:
    """What one host said, section by section; ``error`` when it could not be collected."""

    host: str
    sections: dict[str, Section] = field(default_factory=dict)
    error: str | None = None

    def out(self, name: str) -> str:
        s = self.sections.get(name)
        return s.out if s else ""

    def rc(self, name: str) -> int | None:
        s = self.sections.get(name)
        return s.rc if s else None

    def kv(self, name: str) -> dict[str, str]:
        """``key=value`` lines of a section (first wins)."""
        d: dict[str, str] = {}
        for line in self.out(name).splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                d.setdefault(k.strip(), v.strip())
        return d

    def to_plain(self) -> dict[str, Any]:
        return {"format": FACTS_FORMAT, "host": self.host, "error": self.error,
                "sections": {k: {"rc": v.rc, "out": v.out} for k, v in self.sections.items()}}

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> "HostFacts":
        return cls(host=data["host"], error=data.get("error"),
                   sections={k: Section(out=v["out"], rc=int(v["rc"])) for k, v in data.get("sections", {}).items()})


_END_RE = re.compile(r"^@@GOVCLOUD-END (\S+) rc=(-?\d+)$")


def parse_output(host: str, text: str) -> HostFacts:
    """Split the script's stdout into sections; tolerant of truncated output."""
    facts = HostFacts(host=host)
    name: str | None = None
    buf: list[str] = []
    for line in text.splitlines():
        if line.startswith(BEGIN):
            name, buf = line[len(BEGIN):].strip(), []
            continue
        m = _END_RE.match(line)
        if m and name == m.group(1):
            body = "\n".join(buf)
            facts.sections[name] = Section(out=body.strip("\n"), rc=int(m.group(2)))
            name = None
            continue
        if name is not None:
            buf.append(line)
    return facts


def load_facts(path: Path) -> list[HostFacts]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    items = data if isinstance(data, list) else data.get("hosts", [data])
    return [HostFacts.from_plain(d) for d in items]
