"""The command line as a whole (homelab.cli): help, unknown commands, exit codes, the
entry points, and a light start."""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from homelab import cli
from homelab.cli import output
from tests.cli.test_lab import run
from tests.conftest import REPO, RunCli


def commands() -> list[str]:
    for action in cli.parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return sorted(action.choices)
    raise AssertionError("homelab has no commands")


# ---- help ---------------------------------------------------------------------------


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    names = commands()
    assert {"init", "hosts", "validate", "schema", "build", "show"} <= set(names)
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("    ")}
    assert set(names) <= listed


def test_every_command_runs_a_function_of_the_command_line() -> None:
    for action in cli.parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                assert callable(cli._function(sub.get_default("command_function"))), name


def test_no_command_prints_the_help(run_cli: RunCli) -> None:
    code, out, _ = run_cli()
    assert code == 0
    assert "validate" in out and "usage: homelab" in out


def test_the_commands_that_pause_the_garbage_collector_are_commands() -> None:
    runs = set()
    for action in cli.parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                runs.add(sub.get_default("command_function"))
                for inner in sub._actions:
                    if isinstance(inner, argparse._SubParsersAction):
                        runs |= {s.get_default("command_function") for s in inner.choices.values()}
    assert runs >= cli._SHORT
    assert "lab:cmd_tui" not in cli._SHORT and "deploy:cmd_apply" not in cli._SHORT


def test_a_short_command_leaves_the_garbage_collector_as_it_found_it(
    tmp_path: Path, run_cli: RunCli
) -> None:
    from tests.conftest import copy_lab

    lab = copy_lab("basic", tmp_path / "lab")
    assert gc.isenabled()
    assert run_cli("--lab", str(lab), "validate")[0] == 0
    assert gc.isenabled()
    (lab / "hosts" / "beta" / "profile.yaml").write_text("host: [")
    assert run_cli("--lab", str(lab), "validate")[0] == 2  # ended by an error: still on
    assert gc.isenabled()
    gc.disable()
    try:
        run_cli("--lab", str(lab), "hosts")
        assert not gc.isenabled()  # off before: not turned on
    finally:
        gc.enable()


def test_an_unknown_command_is_refused_with_exit_2() -> None:
    result = run("valdiate")
    assert result.returncode == 2
    assert "invalid choice: 'valdiate'" in result.stderr
    assert "'validate'" in result.stderr and "'history'" in result.stderr  # every command


def test_a_command_is_parsed_and_helped_as_itself_wherever_the_lab_option_is() -> None:
    result = run("--lab", "/nowhere", "history", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: homelab history")
    assert "--limit N" in result.stdout
    result = run("-h", "history")  # the lab's help first: every command in it
    assert result.returncode == 0
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("    ")}
    assert set(commands()) <= listed
    assert run("secrets", "set", "--help").stdout.startswith("usage: homelab secrets set")


def test_the_command_line_starts_without_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "import homelab.cli\n"
        "try:\n"
        "    homelab.cli.main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'textual', 'paramiko', 'git', 'rich'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or m.startswith(('homelab.lab', 'homelab.deploy', 'homelab.history'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_history_on_a_pipe_loads_no_deploy_code_no_profile_loader_no_rich_and_no_textual(
    tmp_path: Path,
) -> None:
    lab = tmp_path / "lab"
    assert run("init", str(lab)).returncode == 0
    code = (
        "import sys\n"
        "import homelab.cli\n"
        "assert homelab.cli.main(['--lab', sys.argv[1], 'history']) == 0\n"
        "heavy = {'textual', 'paramiko', 'rich'}\n"
        "loader = {'homelab.labload', 'homelab.profile.model', 'homelab.catalog'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or m.startswith('homelab.deploy') or m in loader))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(lab)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "homelab init: a new lab" in lines[0]
    assert lines[-1] == "[]"


def test_history_of_a_host_asked_again_loads_no_yaml_parser_and_no_subprocess(
    tmp_path: Path,
) -> None:
    lab = tmp_path / "lab"
    assert run("init", str(lab)).returncode == 0
    host = next(p.parent.name for p in (lab / "hosts").glob("*/profile.yaml"))
    code = (
        "import sys\n"
        "import homelab.cli\n"
        "assert homelab.cli.main(['--lab', sys.argv[1], 'history', sys.argv[2]]) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'yaml', 'subprocess'}))\n"
    )
    said = []
    for _ in range(2):  # the first run finds the host's paths (YAML), the second recalls them
        result = subprocess.run(
            [sys.executable, "-c", code, str(lab), host], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        said.append(result.stdout.strip().splitlines())
    assert said[0][:-1] == said[1][:-1] and "homelab init: a new lab" in said[1][0]
    assert said[0][-1] != "[]"
    assert said[1][-1] == "[]"


def test_a_command_run_inside_another_program_leaves_nothing_frozen(
    tmp_path: Path, run_cli: RunCli
) -> None:
    lab = tmp_path / "lab"
    assert run_cli("init", str(lab))[0] == 0
    short = cli._SHORT | {"history:cmd_status"}  # status: without --live
    assert not cli._WRITE_NOTHING - short
    for command in (["history"], ["status"], ["hosts"]):
        assert run_cli("--lab", str(lab), *command)[0] == 0
        assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_help_is_laid_out_as_argparse_lays_it_out(monkeypatch: pytest.MonkeyPatch) -> None:
    laid: dict[str, list[str]] = {}
    for columns in ("50", "200"):  # the terminal's width, as argparse's own formatter finds it
        monkeypatch.setenv("COLUMNS", columns)
        top = cli.parser()
        (commands,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
        for parser in (top, commands.choices["history"], commands.choices["apply"]):
            ours = parser.format_help()
            parser.formatter_class = argparse.HelpFormatter
            assert ours == parser.format_help()
            laid.setdefault(columns, []).append(ours)
    assert laid["50"] != laid["200"]


def test_the_console_script_and_python_m_homelab_run_the_same_main() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["homelab"].partition(":")
    assert getattr(__import__(module, fromlist=[name]), name) is cli.main
    main_py = (REPO / "homelab" / "__main__.py").read_text()
    assert "from homelab.cli import main" in main_py
    assert run("--help").stdout.startswith("usage: homelab")


# ---- the line under the problems ------------------------------------------------------


def test_a_mistake_in_no_file_is_not_counted_as_one_in_a_file(
    basic_lab: Path, run_cli: RunCli
) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "apply", "--jobs", "0", "alpha")
    assert code == 2 and out == ""
    assert err == "error: command line: --jobs needs at least 1\n"  # nothing more to say
    assert "file" not in err

    code, _, err = run_cli("--lab", str(basic_lab), "diff")  # a place that is a folder
    assert code == 2
    assert "the lab is not in a git repository" in err
    assert "problem" not in err


def test_the_tally_counts_files_only_for_problems_in_files() -> None:
    profile = "hosts/beta/profile.yaml"
    assert output.tally([profile]) == "1 problem in 1 file"
    assert output.tally([profile, profile, "hosts/alpha/profile.yaml"]) == "3 problems in 2 files"
    assert output.tally(["command line"]) == ""
    assert output.tally(["command line", "/srv/lab"]) == "2 problems"
    assert output.tally(["command line", profile]) == "2 problems, 1 in 1 file"
