"""What homelab's probe says of a machine, read into Facts."""

from __future__ import annotations

from homelab.deploy.hostlock import Facts
from homelab.deploy.models import Generation

ANSWER = """\
root=/rig/m1
user=alice
sudo=ok
cleaned=/var/lib/homelab/uploads/a.partial
cleaned=/var/lib/homelab/secrets.partial
current=/rig/m1/nix/store/abc-nixos-system
profile=system-12-link
systemd=1
nvd=1
rebuild=1
manifest={"files": {"flake.nix": "ab"}, "host": "web"}
secrets={"/run/keys/db": "12"}
staging=/var/lib/homelab/uploads/r1.partial
ready
"""


def test_the_probes_answer_is_read_into_facts() -> None:
    facts = Facts.parse(ANSWER)
    assert facts == Facts(
        root="/rig/m1",
        user="alice",
        current="/rig/m1/nix/store/abc-nixos-system",
        generation=12,
        systemd=True,
        nvd=True,
        nix=False,
        rebuild=True,
        manifest={"files": {"flake.nix": "ab"}, "host": "web"},
        secrets={"/run/keys/db": "12"},
        staging="/var/lib/homelab/uploads/r1.partial",
        cleaned=("/var/lib/homelab/uploads/a.partial", "/var/lib/homelab/secrets.partial"),
    )
    assert facts.generation_now == Generation(12, "/rig/m1/nix/store/abc-nixos-system")


def test_a_manifest_that_is_not_json_is_no_manifest_and_nothing_found_is_nothing() -> None:
    facts = Facts.parse("manifest={not json\nsecrets=[1, 2]\nprofile=system-link\nready\n")
    assert facts.manifest == {} and facts.secrets == {}
    assert facts.generation is None
    assert Facts.parse("") == Facts()
