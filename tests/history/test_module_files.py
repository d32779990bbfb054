"""Module files a profile imports are committed with it, and belong to its host: a change
to one is committed with the host's next build and shows in the host's history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.history.tools import edit, files_in, git, touched, write

RunCli = Callable[..., tuple[int, str, str]]


def test_a_module_file_is_committed_with_the_profile_that_names_it(
    lab: Path, run_cli: RunCli
) -> None:
    # pi names one beside its profile; the shared fragment names one beside itself
    write(lab, "hosts/pi/tlp.nix", "{ ... }: { services.tlp.enable = true; }\n")
    write(lab, "hosts/common/net.nix", "{ ... }: { networking.firewall.enable = true; }\n")
    write(lab, "hosts/common/unused.nix", "{ ... }: { }\n")
    edit(lab, "hosts/pi/profile.yaml", "services:", "modules: [./tlp.nix]\nservices:")
    edit(lab, "hosts/common/base.yaml", "host:", "modules: [./net.nix]\nhost:")

    code, _, err = run_cli("--lab", str(lab), "build", "--commit", "pi")

    assert code == 0, err
    assert {"hosts/pi/tlp.nix", "hosts/common/net.nix"} <= touched(lab, "HEAD")
    assert "hosts/common/unused.nix" not in files_in(lab, "HEAD")  # named by no profile
    # a later change to a module file is the host's: committed with it, in its log
    write(lab, "hosts/common/net.nix", "{ ... }: { networking.firewall.enable = false; }\n")
    code, _, err = run_cli("--lab", str(lab), "build", "--commit", "pi")
    assert code == 0, err
    assert touched(lab, "HEAD") == {"hosts/common/net.nix"}
    code, out, err = run_cli("--lab", str(lab), "history", "pi", "--limit", "1")
    assert code == 0, err
    assert git(lab, "rev-parse", "--short", "HEAD").strip() in out
