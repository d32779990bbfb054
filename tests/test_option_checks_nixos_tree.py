"""The checker against an index made by the REAL lib.evalModules (index.nix over a small
NixOS-like module tree, ../shared/upstream's nixpkgs lib): renamed and removed options
made with lib.mkRenamedOptionModule and mkRemovedOptionModule, submodules in attrsOf and
listOf, and lib's own types as the index reads them."""

# ruff: noqa: E501
from __future__ import annotations

from typing import Any

import pytest

from homelab.optionindex.check import Checked, check
from homelab.optionindex.model import OptionIndex
from homelab.profile.options import parse_key
from tests.optionindex import nixos_index

TREE = """\
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  imports = [
    (lib.mkRenamedOptionModule [ "services" "web" "port" ] [ "services" "web" "listen" "port" ])
    (lib.mkRemovedOptionModule [ "services" "old" "enable" ] "old was dropped: use services.web.")
  ];
  options.services.web = {
    enable = lib.mkEnableOption "the web server";
    listen.port = mkOption { type = types.port; default = 80; };
    mode = mkOption { type = types.enum [ "fast" "safe" ]; default = "safe"; };
    level = mkOption { type = types.ints.between 1 9; default = 5; };
    name = mkOption { type = types.strMatching "[a-z][a-z0-9-]*"; default = "web"; };
    tags = mkOption { type = types.listOf types.str; default = [ ]; };
    either = mkOption { type = types.oneOf [ types.bool types.int ]; default = 1; };
    timeout = mkOption { type = types.nullOr types.int; default = null; };
    hook = mkOption { type = types.functionTo types.str; default = _: ""; };
    package = mkOption { type = types.package; };
    generated = mkOption { type = types.str; readOnly = true; default = "x"; };
    sites = mkOption {
      default = { };
      type = types.attrsOf (types.submodule {
        options.root = mkOption { type = types.path; };
        options.aliases = mkOption { type = types.listOf types.str; default = [ ]; };
      });
    };
    settings = mkOption {
      default = { };
      type = types.submodule {
        freeformType = types.attrsOf types.str;
        options.workers = mkOption { type = types.ints.positive; default = 1; };
      };
    };
    upstreams = mkOption {
      default = [ ];
      type = types.listOf (types.submodule {
        options.address = mkOption { type = types.str; };
        options.weight = mkOption { type = types.ints.unsigned; default = 1; };
      });
    };
  };
}
"""


@pytest.fixture(scope="module")
def index() -> OptionIndex:
    return nixos_index(TREE)


def run(index: OptionIndex, path: str, value: Any) -> Checked:
    return check(index.nixos, parse_key(path), value, parse_key)


GOOD: list[tuple[str, Any]] = [
    ("services.web.enable", True),
    ("services.web.listen.port", 8080),
    ("services.web.mode", "fast"),
    ("services.web.level", 9),
    ("services.web.name", "web-1"),
    ("services.web.tags", ["a", "b"]),
    ("services.web.either", False),
    ("services.web.timeout", None),
    ('services.web.sites."example.org".root', "/srv/www"),
    ('services.web.sites."example.org"', {"root": "/srv/www", "aliases": ["www.example.org"]}),
    ("services.web.settings.workers", 4),
    ("services.web.settings.log_level", "debug"),  # a key of the freeform type
    ("services.web.upstreams", [{"address": "10.0.0.1", "weight": 2}]),
    ("services.web.package", {"!pkg": "nginx"}),
    ("services.web.hook", {"!nix": "x: x"}),
]


@pytest.mark.parametrize(("path", "value"), GOOD)
def test_what_the_real_module_system_takes_passes(
    index: OptionIndex, path: str, value: Any
) -> None:
    assert run(index, path, value).problems == []


BAD: list[tuple[str, Any, str]] = [
    ("services.web.enable", "yes", "services.web.enable takes true or false, not the text 'yes'"),
    (
        "services.web.listen.port",
        65536,
        "services.web.listen.port takes a whole number from 0 to 65535, not 65536, which is out of range",
    ),
    (
        "services.web.mode",
        "slow",
        'services.web.mode takes one of "fast", "safe", not the text \'slow\'',
    ),
    (
        "services.web.level",
        0,
        "services.web.level takes a whole number from 1 to 9, not 0, which is out of range",
    ),
    (
        "services.web.name",
        "Web",
        "services.web.name takes text matching [a-z][a-z0-9-]*, not the text 'Web', which does not match [a-z][a-z0-9-]*",
    ),
    ("services.web.tags", "a", "services.web.tags takes a list of text, not the text 'a'"),
    (
        "services.web.either",
        "x",
        "services.web.either takes true or false or a whole number, not the text 'x'",
    ),
    (
        "services.web.timeout",
        "10",
        "services.web.timeout takes null or a whole number, not the text '10'",
    ),
    (
        'services.web.sites."a.org".root',
        "srv",
        "services.web.sites.\"a.org\".root takes an absolute path, not the text 'srv', which is not an absolute path",
    ),
    (
        'services.web.sites."a.org".roots',
        "/srv",
        'services.web.sites."a.org".roots is not an option: services.web.sites."a.org" has no \'roots\'',
    ),
    (
        "services.web.settings.workers",
        0,
        "services.web.settings.workers takes a whole number from 1 to …, not 0, which is out of range",
    ),
    (
        "services.web.upstreams",
        [{"adress": "10.0.0.1"}],
        "services.web.upstreams[0].adress is not an option: services.web.upstreams[0] has no 'adress'",
    ),
    ("services.web.package", True, None),  # a package's type cannot be checked: accepted
    ("services.web.generated", "y", "services.web.generated is read-only: it cannot be set"),
    (
        "services.old.enable",
        True,
        "services.old.enable was removed: old was dropped: use services.web.",
    ),
    ("services.web.enabel", True, "services.web.enabel is not an option"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD)
def test_what_it_refuses_is_refused(
    index: OptionIndex, path: str, value: Any, message: str | None
) -> None:
    found = run(index, path, value)
    errors = [p.message for p in found.problems if not p.warning]
    if message is None:
        assert errors == [] and found.unchecked == 1
    else:
        assert len(errors) == 1 and message in errors[0], errors


def test_a_renamed_option_names_its_new_path_and_its_value_is_checked_there(
    index: OptionIndex,
) -> None:
    (p,) = run(index, "services.web.port", 8080).problems
    assert p.warning and p.message == "services.web.port was renamed to services.web.listen.port"
    assert p.hint == "write services.web.listen.port"
    errors = [p.message for p in run(index, "services.web.port", 70000).problems if not p.warning]
    assert errors == [
        "services.web.listen.port takes a whole number from 0 to 65535, not 70000, which is out of range"
    ]


def test_did_you_mean_through_the_index(index: OptionIndex) -> None:
    (p,) = run(index, "services.web.enabel", True).problems
    assert p.hint == "did you mean services.web.enable?"
    (p,) = run(index, "services.wbe.mode", "fast").problems
    assert p.hint == "did you mean services.web.mode?"
    (p,) = run(index, "services.web.upstreams", [{"adress": "10.0.0.1"}]).problems
    assert (p.at, p.key, p.hint) == (
        (0, "adress"),
        True,
        "did you mean services.web.upstreams[0].address?",
    )
