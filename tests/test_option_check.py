# ruff: noqa: E501
"""The checker of option values against a small hand-made index: existence with
did-you-mean, renamed and removed options, and each kind of type."""

from __future__ import annotations

from typing import Any

import pytest

from homelab.optionindex import model as m
from homelab.optionindex.check import Checked, check, check_path
from homelab.optionindex.posix import posix_regex
from homelab.optionindex.suggest import suggestions
from homelab.profile.options import parse_key

PORT = m.OptionType(m.INT, "port", low=0, high=65535)
SUB_HOST = m.OptionType(m.SUBMODULE, "submodule")


def option(path: str, kind: m.OptionType, **more: Any) -> m.Option:
    return m.Option(tuple(path.split(".")), kind, **more)


def index(*options: m.Option) -> m.OptionSet:
    return m.OptionSet({o.path: o for o in options})


OPTIONS = index(
    option("services.nginx.enable", m.OptionType(m.BOOL)),
    option("services.nginx.package", m.OptionType(m.UNCHECKED, "package")),
    option("services.nginx.virtualHosts", m.OptionType(m.ATTRS, "attrsOf", of=(SUB_HOST,))),
    option("services.nginx.virtualHosts.<name>.root", m.OptionType(m.NULL_OR, of=(m.OptionType(m.PATH),))),
    option("services.nginx.virtualHosts.<name>.listen", m.OptionType(m.LIST, of=(m.OptionType(m.SUBMODULE),))),
    option("services.nginx.virtualHosts.<name>.listen.*.port", PORT),
    option("services.nginx.virtualHosts.<name>.listen.*.addr", m.OptionType(m.STR)),
    option("services.nginx.settings", m.OptionType(m.SUBMODULE, freeform=True)),
    option("services.nginx.settings.workers", m.OptionType(m.INT, low=1)),
    option("services.openssh.enable", m.OptionType(m.BOOL)),
    option("services.openssh.ports", m.OptionType(m.LIST, of=(PORT,))),
    option(
        "services.openssh.settings.PermitRootLogin",
        m.OptionType(m.ENUM, values=("yes", "without-password", "prohibit-password", "no")),
    ),
    option("services.openssh.permitRootLogin", m.OptionType(m.ANYTHING),
           renamed_to=("services", "openssh", "settings", "PermitRootLogin")),
    option("services.old.enable", m.OptionType(m.ANYTHING), removed="it was unmaintained"),
    option("networking.hostName", m.OptionType(m.STR, "strMatching", pattern="[[:alnum:]]([[:alnum:]-]*[[:alnum:]])?")),
    option("networking.hosts", m.OptionType(m.ATTRS, of=(m.OptionType(m.LIST, of=(m.OptionType(m.STR),)),))),
    option("environment.systemPackages", m.OptionType(m.LIST, of=(m.OptionType(m.UNCHECKED, "package"),))),
    option("boot.kernel.sysctl", m.OptionType(m.ATTRS, of=(m.OptionType(m.EITHER, of=(m.OptionType(m.BOOL), m.OptionType(m.STR), m.OptionType(m.INT))),))),
    option("system.build.toplevel", m.OptionType(m.UNCHECKED), read_only=True),
    option("time.timeZone", m.OptionType(m.NULL_OR, of=(m.OptionType(m.STR),))),
    option("zramSwap.memoryPercent", m.OptionType(m.FLOAT)),
)  # fmt: skip


def run(path: str, value: Any) -> Checked:
    return check(OPTIONS, parse_key(path), value, parse_key)


def messages(path: str, value: Any) -> list[str]:
    return [p.message + (f" | {p.hint}" if p.hint else "") for p in run(path, value).problems]


def test_good_values_pass_and_are_counted() -> None:
    good = {
        "services.nginx.enable": True,
        'services.nginx.virtualHosts."example.org".root': "/srv/www",
        'services.nginx.virtualHosts."example.org".listen': [{"addr": "0.0.0.0", "port": 443}],
        "services.openssh.ports": [22, 2222],
        "services.openssh.settings.PermitRootLogin": "no",
        "networking.hostName": "web-1",
        'networking.hosts."10.0.0.2"': ["nas"],
        'boot.kernel.sysctl."net.ipv4.ip_forward"': 1,
        "time.timeZone": None,
        "zramSwap.memoryPercent": 50.0,
    }
    for path, value in good.items():
        found = run(path, value)
        assert found.problems == [], (path, found.problems)
        assert found.checked >= 1 and found.unchecked == 0, path


def test_what_cannot_be_checked_is_counted() -> None:
    assert run("services.nginx.package", {"!pkg": "nginxMainline"}).unchecked == 1
    assert run("services.nginx.enable", {"!nix": "lib.mkDefault true"}).unchecked == 1
    found = run("environment.systemPackages", [{"!pkg": "htop"}, {"!pkg": "git"}])
    assert (found.problems, found.unchecked) == ([], 2)
    # a key a freeform submodule does not declare
    found = run("services.nginx.settings.worker_connections", 1024)
    assert (found.problems, found.unchecked) == ([], 1)
    assert run("services.nginx.settings.workers", 0).problems  # a declared one is checked


def test_an_option_that_does_not_exist_gets_the_closest() -> None:
    assert messages("services.nginx.enabel", True) == [
        "services.nginx.enabel is not an option | did you mean services.nginx.enable?"
    ]
    assert messages("services.ngnix.enable", True) == [
        "services.ngnix.enable is not an option | did you mean services.nginx.enable?"
    ]
    # a prefix left out: the same last names elsewhere
    assert suggestions(OPTIONS, ("openssh", "enable")) == ["services.openssh.enable"]
    # the person's own names stand in for <name>
    assert messages('services.nginx.virtualHosts."a.org".roots', "/srv") == [
        'services.nginx.virtualHosts."a.org".roots is not an option: '
        "services.nginx.virtualHosts.\"a.org\" has no 'roots' | "
        'did you mean services.nginx.virtualHosts."a.org".root?'
    ]
    # and in a list of submodules, the key is pointed at
    found = run('services.nginx.virtualHosts."a.org".listen', [{"adr": "::"}])
    assert [(p.at, p.key) for p in found.problems] == [((0, "adr"), True)]
    assert "did you mean" in found.problems[0].hint and ".addr" in found.problems[0].hint


def test_renamed_and_removed() -> None:
    found = run("services.openssh.permitRootLogin", "no")
    (p,) = found.problems
    assert p.warning and p.key
    assert p.message == (
        "services.openssh.permitRootLogin was renamed to services.openssh.settings.PermitRootLogin"
    )
    assert p.hint == "write services.openssh.settings.PermitRootLogin"
    # the value is checked against the new option
    assert any(not q.warning for q in run("services.openssh.permitRootLogin", "maybe").problems)
    assert messages("services.old.enable", True) == [
        "services.old.enable was removed: it was unmaintained | remove it from the profile"
    ]
    assert messages("system.build.toplevel", "x") == [
        "system.build.toplevel is read-only: it cannot be set"
    ]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("services.nginx.enable", "yes",
         "services.nginx.enable takes true or false, not the text 'yes' | write true, without quotes"),
        ("services.openssh.ports", [22, 70000],
         "services.openssh.ports[1] takes a whole number from 0 to 65535, not 70000, which is out of range"),
        ("services.openssh.ports", 22,
         "services.openssh.ports takes a list of whole number from 0 to 65535, not the number 22"
         " | write the value as a list: [ ... ]"),
        ("services.openssh.settings.PermitRootLogin", "maybe",
         'services.openssh.settings.PermitRootLogin takes one of "yes", "without-password", '
         '"prohibit-password", "no", not the text \'maybe\''),
        ("networking.hostName", "web_1",
         "networking.hostName takes text matching [[:alnum:]]([[:alnum:]-]*[[:alnum:]])?, "
         "not the text 'web_1', which does not match [[:alnum:]]([[:alnum:]-]*[[:alnum:]])?"),
        ('services.nginx.virtualHosts."a".root', "srv",
         'services.nginx.virtualHosts.a.root takes null or an absolute path, '
         "not the text 'srv', which is not an absolute path"),
        ("time.timeZone", 1, "time.timeZone takes null or text, not the number 1 | put it in quotes: \"1\""),
        ("zramSwap.memoryPercent", 50, "zramSwap.memoryPercent takes a number with a decimal point, not the number 50 | write 50.0"),
        ("services.nginx.enable", {"!pkg": "hello"}, "services.nginx.enable takes true or false, not a package (!pkg hello)"),
        ("services.nginx.enable", {"!force": "no"}, "services.nginx.enable takes true or false, not the text 'no' | write false, without quotes"),
        ('boot.kernel.sysctl."vm.swappiness"', [1],
         'boot.kernel.sysctl."vm.swappiness" takes true or false or text or a whole number, not a list'),
        ("services.nginx.enable.really", True,
         "services.nginx.enable takes true or false: it has no names below it | give services.nginx.enable its value itself"),
        ("services.nginx", 1, "services.nginx is a set of options, not one option | set one of them, e.g. services.nginx.enable"),
    ],
)  # fmt: skip
def test_wrong_values_are_refused(path: str, value: Any, expected: str) -> None:
    assert messages(path, value) == [expected]


def test_where_a_problem_stands() -> None:
    found = run("services.nginx.enable", {"!force": "no"})
    assert [p.at for p in found.problems] == [("!force",)]
    found = run("services.openssh.ports", [22, 70000])
    assert [(p.at, p.key) for p in found.problems] == [((1,), False)]
    # a group given as a map: each key is checked where it stands
    found = run("services", {"nginx.enable": "x", "openssh": {"enabled": True}})
    assert [(p.at, p.key) for p in found.problems] == [
        (("nginx.enable",), False),
        (("openssh", "enabled"), True),
    ]


def test_raw_nix_paths_only_need_to_exist() -> None:
    assert check_path(OPTIONS, ("services", "nginx", "enable")).problems == []
    assert check_path(OPTIONS, ("services", "nginx")).problems == []  # leads to a set
    assert check_path(OPTIONS, ("services", "nginx", "virtualHosts", "a", "root")).problems == []
    (p,) = check_path(OPTIONS, ("services", "nginx", "enabel")).problems
    assert p.hint == "did you mean services.nginx.enable?"


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("[[:alnum:]]([[:alnum:]-]*[[:alnum:]])?", "web-1", True),
        ("[[:alnum:]]([[:alnum:]-]*[[:alnum:]])?", "-web", False),
        ("[0-9]+\\.[0-9]+", "1.5", True),
        ("[0-9]+\\.[0-9]+", "1x5", False),
        ("[\\]+", "\\\\", True),  # a backslash in brackets is itself in POSIX
        ("a{2}", "aa", True),
        (".*[^/]", "/srv/x", True),
    ],
)
def test_posix_patterns(pattern: str, text: str, matches: bool) -> None:
    regex = posix_regex(pattern)
    assert regex is not None
    assert (regex.fullmatch(text) is not None) is matches


def test_patterns_python_would_read_otherwise_are_not_checked() -> None:
    assert posix_regex("\\d+") is None
    assert posix_regex("[[:foo:]]") is None
    kind = m.OptionType(m.STR, pattern="\\d+")
    found = check(index(m.Option(("a",), kind)), ("a",), "x")
    assert (found.problems, found.checked, found.unchecked) == ([], 0, 1)


def test_a_submodule_whose_options_the_index_lacks_is_not_checked() -> None:
    # home-manager.users.<name> on the NixOS side: its options are the index's home side
    users = m.OptionType(m.ATTRS, "attrsOf", of=(m.OptionType(m.SUBMODULE),))
    found = check(
        index(option("home-manager.users", users)), ("home-manager", "users", "a", "x"), 1
    )
    assert (found.problems, found.unchecked) == ([], 1)
