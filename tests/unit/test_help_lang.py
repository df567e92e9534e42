"""``--help`` speaks the user's language: Chinese by default, English with ``--lang en`` or
``GOVCLOUD_LANG=en``; every help text of every command comes from the catalog."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import typer.main
from typer.testing import CliRunner

from govcloud.base.i18n import tr
from govcloud.cli import helplang
from govcloud.cli.root import app

CJK = re.compile(r"[\u4e00-\u9fff]")


def _paths() -> list[list[str]]:
    out: list[list[str]] = []

    def walk(cmd, path):
        out.append(path)
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(sub, path + [name])
    walk(typer.main.get_command(app), [])
    return out


def _first_words(text: str) -> str:
    """The first line of a help text, as the help page shows it (rich markup stripped)."""
    return re.sub(r"\[/?[a-z ]+\]", "", text.strip().splitlines()[0])[:30]


def test_every_help_page_is_chinese_by_default() -> None:
    runner = CliRunner()
    english = helplang.texts(typer.main.get_command(app))
    assert len(english) > 150
    for path in _paths():
        r = runner.invoke(app, path + ["--help"], env={"COLUMNS": "300", "GOVCLOUD_LANG": ""})
        assert r.exit_code == 0, (path, r.output)
        assert "选项" in r.output or "命令" in r.output, (path, r.output)
        # no English help text of this tree is left on the page (each has its Chinese)
        for text in english:
            if tr(text, "zh", helplang.CTX) != text:
                assert _first_words(text) not in r.output or CJK.search(_first_words(text)), (path, text)
        assert "Show this message and exit." not in r.output and "显示此帮助并退出" in r.output


def test_english_with_lang_option_or_environment() -> None:
    r = CliRunner().invoke(app, ["plan", "generate", "--help"], env={"COLUMNS": "300", "GOVCLOUD_LANG": "en"})
    assert "Build the batched plan" in r.output and "Options" in r.output and "[required]" in r.output
    assert not CJK.search(r.output.replace("zh", "")), r.output
    env = {**os.environ, "COLUMNS": "300", "GOVCLOUD_LANG": ""}
    for args in (["plan", "generate", "--help", "--lang", "en"], ["plan", "generate", "--lang=en", "--help"]):
        proc = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, env=env,
                              timeout=60)
        assert proc.returncode == 0 and "Build the batched plan" in proc.stdout, proc.stdout + proc.stderr
    proc = subprocess.run([sys.executable, "-m", "govcloud", "plan", "generate", "--help"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert "编制分批次迁移计划" in proc.stdout and "[必填]" in proc.stdout, proc.stdout


@pytest.mark.parametrize("argv,env,lang", [
    (["--lang", "en"], None, "en"), (["--lang=en"], None, "en"), (["--lang", "zh"], "en", "zh"),
    ([], "en", "en"), ([], None, "zh"), ([], "fr", "zh"), (["--lang"], "en", "en"),
])
def test_help_language_rule(monkeypatch, argv, env, lang) -> None:
    if env is None:
        monkeypatch.delenv("GOVCLOUD_LANG", raising=False)
    else:
        monkeypatch.setenv("GOVCLOUD_LANG", env)
    assert helplang.help_lang(["plan", "show", *argv]) == lang


def test_chinese_help_folds_instead_of_being_cut_at_80_columns() -> None:
    runner = CliRunner()
    for path in _paths():
        r = runner.invoke(app, path + ["--help"], env={"COLUMNS": "80", "GOVCLOUD_LANG": "zh"})
        assert r.exit_code == 0
        # a Chinese sentence has no spaces: it must fold onto the next line, never end in "…"
        cut = [line for line in r.output.splitlines() if re.search(r"[\u4e00-\u9fff（），、：；]…(?!…)", line)]
        assert not cut, (path, cut)


def test_localizing_twice_and_back_restores_english() -> None:
    cmd = typer.main.get_command(app)
    before = helplang.texts(cmd)
    helplang.localize_tree(cmd, "zh")
    assert CJK.search(cmd.commands["plan"].help)
    helplang.localize_tree(cmd, "zh")
    helplang.localize_tree(cmd, "en")
    assert helplang.texts(cmd) == before and cmd.commands["plan"].commands["generate"].help == \
        next(t for t in before if t.startswith("Build the batched plan"))


# ---------------------------------------------------------------- usage errors

WRONG_LINES = [
    (["plan", "generate"], "错误：缺少参数 'inventory'。"),
    (["plan", "generate", "x", "--forc"], "错误：没有选项 --forc（可能是：--force）"),
    (["plan", "generate", "x", "--batch-weeks", "abc"], "错误：'--batch-weeks' 的值无效：应为整数，无法解析为整数"),
    (["plan", "generate", "x", "--batch-weeks", "99"], "错误：'--batch-weeks' 的值无效：应小于或等于 26"),
    (["plan", "show", "x", "--output", "yaml"], "错误：'--output' / '-o' 的值无效：'yaml' 不是可选值（'text', 'json'）之一。"),
    (["plan", "nosuch"], "错误：没有命令 'nosuch'。"),
    (["plan", "generate", "x", "y"], "错误：多余的参数（y）"),
    (["plan", "generate", "x", "--policy"], "错误：选项 '--policy' 需要一个值。"),
]


@pytest.mark.parametrize("args,expected", WRONG_LINES)
def test_a_wrong_command_line_is_explained_in_chinese(args, expected) -> None:
    env = {**os.environ, "COLUMNS": "200", "GOVCLOUD_LANG": ""}
    proc = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[-1] == expected, proc.stderr
    if len(lines) > 1:
        assert lines[0].startswith("用法：govcloud ") and re.match(r"运行 'govcloud .* -h' 查看帮助。", lines[1])
    # the same line in English is click's own output, untouched
    en = subprocess.run([sys.executable, "-m", "govcloud", *args, "--lang", "en"], capture_output=True, text=True,
                        env=env, timeout=60)
    assert en.returncode == 2 and "Error: " in en.stderr and not CJK.search(en.stderr), en.stderr


def test_every_usage_template_round_trips() -> None:
    for template in helplang.USAGE_TEXTS[3:]:
        names = re.findall(r"\{(\w+)\}", template)
        values = {n: ("'--out' / '-o'" if n == "param" else f"v{i}") for i, n in enumerate(names)}
        message = template.format(**values)
        zh = helplang.usage_text(message, "zh")
        assert CJK.search(zh) and zh == tr(template, "zh", helplang.CTX).format(**values), (template, zh)
        assert helplang.usage_text(message, "en") == message
    # a message no template knows is shown as click wrote it
    assert helplang.usage_text("Something new from click", "zh") == "Something new from click"
