"""The hint under a refusal that names no known host."""

from __future__ import annotations

from homelab.hosthints import SHOWN, known_hosts, unknown_host


def test_a_small_labs_hosts_are_all_named_in_order() -> None:
    assert known_hosts(["pi", "nas", "gateway"]) == "hosts: gateway, nas, pi"


def test_a_big_labs_first_hosts_are_named_with_how_many_more() -> None:
    names = [f"host{n:03}" for n in range(1000)]
    hint = known_hosts(reversed(names))
    assert hint.startswith("hosts: host000, host001, ")
    assert f"host{SHOWN - 1:03} and {1000 - SHOWN} more (`homelab hosts` lists them)" in hint
    assert f"host{SHOWN:03}" not in hint


def test_a_near_name_is_offered_before_the_list() -> None:
    names = [f"host{n:03}" for n in range(1000)]
    assert unknown_host("host0007", names) == "did you mean 'host007'?"
    assert unknown_host("zzz", ["pi", "nas"]) == "hosts: nas, pi"
