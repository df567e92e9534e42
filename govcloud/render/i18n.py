"""Labels for everything the renderers print that is not an enum (enums carry their own)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from govcloud.model.enums import LabeledEnum

LANGS = ("zh", "en")

LABELS: dict[str, tuple[str, str]] = {
    "id": ("编号", "id"),
    "name": ("名称", "name"),
    "value": ("值", "value"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "hostname": ("主机名", "hostname"),
    "owner_org": ("业主单位", "owner"),
    "org": ("部门", "department"),
    "aliases": ("别名", "aliases"),
    "successors": ("承继机构", "successors"),
    "org_type": ("机构类型", "type"),
    "room_type": ("机房类型", "room type"),
    "machine_room": ("机房", "machine room"),
    "status": ("状态", "status"),
    "secrecy": ("涉密", "secrecy"),
    "build_mode": ("建设模式", "build mode"),
    "lifecycle": ("运行状态", "lifecycle"),
    "mlps_level": ("等保级别", "MLPS"),
    "network_zone": ("网络环境", "network"),
    "servers": ("服务器", "servers"),
    "systems": ("信息系统", "systems"),
    "cpu_arch": ("CPU架构", "CPU arch"),
    "os": ("操作系统", "OS"),
    "os_eol": ("停止维护", "OS EOL"),
    "cores": ("核数", "cores"),
    "ram_gb": ("内存GB", "RAM GB"),
    "disk_gb": ("磁盘GB", "disk GB"),
    "engine": ("数据库", "engine"),
    "used_by": ("使用系统", "used by"),
    "from": ("调用方", "from"),
    "to": ("被调用方", "to"),
    "type": ("类型", "type"),
    "latency_sensitive": ("时延敏感", "latency-sensitive"),
    "platform": ("平台", "platform"),
    "accepts_classified": ("可承载涉密", "classified OK"),
    "capacity": ("容量", "capacity"),
    "count": ("数量", "count"),
    "share": ("占比", "share"),
    "organizations": ("部门/单位", "organisations"),
    "machine_rooms": ("机房", "machine rooms"),
    "databases": ("数据库实例", "databases"),
    "dependencies": ("依赖", "dependencies"),
    "resources": ("信息资源", "resources"),
    "cloud_zones": ("资源池", "cloud zones"),
    "orphan_servers": ("孤立服务器", "orphan servers"),
    "eol_os_servers": ("操作系统已停止维护的服务器", "servers on an end-of-life OS"),
    "incomplete_servers": ("普查信息不全的服务器(待 discover)", "servers with an incomplete census (for discover)"),
    "total_cores": ("CPU核数合计", "total cores"),
    "total_ram_gb": ("内存合计(GB)", "total RAM (GB)"),
    "total_disk_gb": ("磁盘合计(GB)", "total disk (GB)"),
    "by_department": ("按部门", "by department"),
    "by_mlps_level": ("按等保级别", "by MLPS level"),
    "by_secrecy": ("按涉密情况", "by secrecy"),
    "by_build_mode": ("按建设模式", "by build mode"),
    "by_lifecycle": ("按运行状态", "by lifecycle"),
    "by_network_zone": ("按网络环境", "by network zone"),
    "by_os": ("按操作系统版本", "by OS version"),
    "by_os_distribution": ("按操作系统", "by OS"),
    "by_cpu_arch": ("按CPU架构", "by CPU architecture"),
    "by_room": ("按机房", "by machine room"),
    "summary": ("概况", "summary"),
    "severity": ("级别", "severity"),
    "code": ("问题代码", "code"),
    "where": ("位置", "where"),
    "field": ("字段", "field"),
    "message": ("说明", "message"),
    "hint": ("建议", "hint"),
    "unknown": ("未填写", "unknown"),
    "downtime": ("实测停机", "downtime"),
    "projected_downtime": ("预计停机", "projected downtime"),
    "replication": ("数据库复制", "replication"),
    "approved_window": ("批准窗口", "approved window"),
    "over_window": ("超出批准窗口", "over the approved window"),
    "forced": ("强制割接", "forced"),
    "last_delta": ("上次增量同步", "last delta"),
    "files": ("个文件", "files"),
    "convergence": ("增量收敛", "deltas"),
    "conv_converged": ("已收敛（无变化）", "converged (nothing changed)"),
    "conv_converging": ("收敛中", "converging"),
    "conv_not_converging": ("未收敛（增量变大）", "not converging (delta grew)"),
    # progress phases (render/progress.py), shown on stderr on a terminal
    "progress.load": ("读取清单文件", "reading inventory files"),
    "progress.validate": ("校验清单", "validating the inventory"),
    "progress.export.tables": ("整理导出表", "building export tables"),
    "progress.export.rows": ("写出数据行", "writing rows"),
    "progress.export.manifest": ("计算校验清单", "writing the manifest"),
    "progress.import.read": ("读取导入文件", "reading the import file"),
    "progress.import.records": ("整理导入记录", "building the records"),
    "progress.import.changes": ("比对变更", "computing the change set"),
    "progress.import.validate": ("校验导入后的清单", "validating the would-be inventory"),
    "progress.import.write": ("写入清单", "writing the inventory"),
    "progress.discover.hosts": ("发现主机", "discovering hosts"),
    "progress.plan.build": ("编制迁移计划", "planning"),
    "progress.plan.check": ("复核硬性规则", "checking the hard rules"),
    "progress.plan.write": ("写出计划", "writing the plan"),
    "progress.report.inputs": ("读取计划与清单", "reading the plan and inventory"),
    "progress.report.render": ("生成报告", "rendering the report"),
    "progress.compliance.hosts": ("采集主机配置", "collecting host facts"),
    "progress.migrate.snapshot": ("读取云平台现状", "reading the cloud"),
    "progress.migrate.systems": ("迁移系统", "systems"),
    "progress.migrate.steps": ("系统", "system"),
    "progress.generate.build": ("生成合成清单", "generating the synthetic inventory"),
    "progress.generate.write": ("写出合成清单", "writing the synthetic inventory"),
}


def t(key: str, lang: str) -> str:
    zh, en = LABELS.get(key, (key, key))
    return zh if lang == "zh" else en


def label(value: Any, lang: str) -> str:
    """An enum member (or its key) shown in the chosen language; other values as text."""
    if isinstance(value, LabeledEnum):
        return value.label(lang)
    if isinstance(value, Enum):
        return str(value.value)
    return "" if value is None else str(value)


def enum_label(enum_cls: type[LabeledEnum], key: str | None, lang: str) -> str:
    if key is None or key == "unknown":
        return t("unknown", lang)
    member = enum_cls.lookup().get(key)
    return member.label(lang) if member else key
