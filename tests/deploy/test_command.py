"""Commands as data meet the shell in one place: each value quoted as one word, a secret
never written anywhere but on standard input."""

from __future__ import annotations

import shlex

from homelab.deploy.command import Built, Masked, Remote, Step, Sudo, say


def test_a_steps_line_is_its_argv_quoted_and_ends_the_job_when_it_fails() -> None:
    step = Step(("install", "-m", "0600", "a b", "$(x)"))
    assert step.line() == "install -m 0600 'a b' '$(x)' || finish $?"
    assert shlex.split(step.line())[:5] == ["install", "-m", "0600", "a b", "$(x)"]
    assert Step(("rm", "-rf", "/x y"), check=False).line() == "rm -rf '/x y'"
    assert say("phase", "rolling back").line() == "say phase 'rolling back'"


def test_the_built_system_is_the_jobs_variable_with_a_quoted_path() -> None:
    assert Step(("nix-env", "--set", Built())).line() == 'nix-env --set "$new" || finish $?'
    step = Step((Built("/bin/switch it"), "switch"))
    assert step.line() == "\"$new\"'/bin/switch it' switch || finish $?"


def test_a_remote_command_is_sh_with_its_values_as_positional_arguments() -> None:
    command = Remote('echo "$1"', ("a'b",))
    assert shlex.split(command.line()) == ["sh", "-c", 'echo "$1"', "homelab", "a'b"]
    through_sudo = Remote("true", (), Sudo.NO_PASSWORD)
    assert shlex.split(through_sudo.line())[:3] == ["sudo", "-n", "sh"]


def test_a_masked_secret_is_never_shown() -> None:
    secret = Masked("hunter2")
    command = Remote("true", (), Sudo.PASSWORD, secret)
    assert command.input() == b"hunter2\n"
    for shown in (repr(secret), str(secret), repr(command), str(command), command.line()):
        assert "hunter2" not in shown
