"""Views of ``govcloud node``."""

from __future__ import annotations

from typing import Any

from govcloud.base.i18n import zh_en
from govcloud.render import console as view

_T: dict[str, tuple[str, str]] = {
    "prepared": zh_en("execution node {node} ({address}) ready: ansible-runner {runner} in {venv}; {ansible}"),
    "wheels": zh_en("wheels: {wheels} ({mb:.1f} MiB, {how})"),
    "downloaded": zh_en("downloaded now"),
    "cached": zh_en("from the cache"),
    "would": zh_en("dry run: execution node {node} ({user}@{address}:{port}) would get {packages} in {venv} "
                   "(runner {runner}, jobs in {work_dir})"),
    "would_wheels": zh_en("wheels: {wheels} ({how})"),
    "to_download": zh_en("to be downloaded"),
}


def msg(key: str, lang: str, **params: Any) -> str:
    zh, en = _T[key]
    return (zh if lang == "zh" else en).format(**params)


def prepared(res: dict[str, Any], lang: str) -> None:
    out = view.stdout()
    out.print(view.safe(msg("prepared", lang, node=res["node"], address=res["address"], runner=res["runner_version"],
                            venv=res["venv"], ansible=res["ansible"])))
    out.print(view.safe(msg("wheels", lang, wheels=res["wheels"], mb=res["wheel_bytes"] / (1 << 20),
                            how=msg("downloaded" if res["downloaded"] else "cached", lang))))


def would_prepare(res: dict[str, Any], lang: str) -> None:
    out = view.stdout()
    packages = ", ".join(f"{p} {v}" for p, v in res["versions"].items())
    out.print(view.safe(msg("would", lang, node=res["node"], user=res["user"], address=res["address"], port=res["port"],
                            packages=packages, venv=res["venv"] or "-", runner=res["runner"], work_dir=res["work_dir"])))
    out.print(view.safe(msg("would_wheels", lang, wheels=res["wheels"],
                            how=msg("cached" if res["cached"] else "to_download", lang))))
