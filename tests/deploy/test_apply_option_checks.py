"""apply checks the options against the lab's option index before anything is committed
or sent: a misspelt option is refused at its profile line, not by the machine minutes
later."""

from __future__ import annotations

from pathlib import Path

import git

from homelab.deploy.optionupdate import lock_pair, write_cached
from homelab.optionindex import model as m
from tests.cli.test_options import pin
from tests.deploy.labs import make_lab
from tests.deploy.tidy import homelab
from tests.sshd.rig import Rig

BOOL = m.OptionType(m.BOOL, "bool")
INDEX = m.OptionIndex(
    "nixpkgs0123",
    "hm0123",
    m.OptionSet(
        {
            p: m.Option(p, BOOL)
            for p in (("services", "fwupd", "enable"), ("services", "openssh", "enable"))
        }
    ),
    m.OptionSet({}),
)


def test_apply_refuses_a_misspelt_option_at_its_line_and_sends_nothing(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(
        tmp_path / "lab", [machine], extra={"web": "options:\n  services.fwupdd.enable: true\n"}
    )
    pin(lab)
    pair = lock_pair(lab)
    assert pair is not None
    write_cached(lab, pair, INDEX)
    before = git.Repo(lab).head.commit.hexsha

    done = homelab(rig, lab, "apply", "--yes")

    assert done.returncode == 2, done.stdout + done.stderr
    assert "hosts/web/profile.yaml:12:3" in done.stderr, done.stderr
    assert "services.fwupd.enable" in done.stderr  # the did-you-mean
    assert git.Repo(lab).head.commit.hexsha == before
    assert machine.lines("commands.log") == []
    assert machine.generation() == 1
