"""A home-manager program listed in a profile without `enable` was left off by homelab's
older Nix (home-manager's default is off, the profile schema said on). The Nix now says
what the schema promised; `homelab diff` and the commit that carries it to the machine say
which programs this turns on, once."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from homelab.compile import HEADER_MARK, body_hash_matches
from tests.history.tools import edit, git, message

RunCli = Callable[..., tuple[int, str, str]]
DEMO = "hosts/nixos-demo/profile.yaml"
HOME = "hosts/nixos-demo/home.nix"
GIT_ON = "home-manager: programs.git for demouser is now enabled (it was silently off before)"
BAT_ON = "home-manager: programs.bat for demouser is now enabled (it was silently off before)"

PROGRAMS = """\
    home:
      programs:
        git: {settings: {user: {name: Demo}}}
        bat: {}
        fzf: {enable: false}
        starship: {enable: true}
"""


def as_older_homelab_wrote_it(text: str) -> str:
    """The file without the `enable = true;` homelab did not write for a program whose
    profile left `enable` out (an explicit enable: true was always written), its header
    hash made right again."""
    for program in ("git", "bat"):
        text = re.sub(rf"(programs\.{program} = \{{\n)\s*enable = true;\n", r"\1", text, count=1)
    lines = text.split("\n")
    mark = next(i for i, line in enumerate(lines) if HEADER_MARK in line)
    body = "\n".join(lines[mark + 1 :])
    lines[mark] = f"# {HEADER_MARK} {hashlib.sha256(body.encode()).hexdigest()[:16]}"
    out = "\n".join(lines)
    assert body_hash_matches(out)
    return out


def test_diff_and_commit_say_which_programs_are_now_turned_on(lab: Path, run_cli: RunCli) -> None:
    edit(lab, DEMO, "    groups: [wheel]\n", "    groups: [wheel]\n" + PROGRAMS)
    code, _, err = run_cli("--lab", str(lab), "build", "--commit", "-m", "programs")
    assert code == 0, err
    # the lab as an older homelab built and committed it
    old = as_older_homelab_wrote_it((lab / HOME).read_text())
    assert "programs.git = {\n        settings" in old
    (lab / HOME).write_text(old)
    git(lab, "commit", "-q", "-am", "built by an older homelab")

    code, out, err = run_cli("--lab", str(lab), "diff", "--color", "never", "nixos-demo")
    assert code == 0, err
    assert f"  {GIT_ON}\n" in out
    assert f"  {BAT_ON}\n" in out
    assert out.count("is now enabled") == 2  # not fzf (off), not starship (was on)

    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    said = message(lab)
    assert f"- {GIT_ON}\n" in said
    assert f"- {BAT_ON}\n" in said
    assert "programs.fzf" not in said and "programs.starship" not in said
    assert "enable = true;" in git(lab, "show", f"HEAD:{HOME}")

    # said once: the next diff has nothing to say about it
    code, out, err = run_cli("--lab", str(lab), "diff", "--color", "never", "nixos-demo")
    assert code == 0, err
    assert "is now enabled" not in out
