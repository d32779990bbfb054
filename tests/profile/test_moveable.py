"""What of extraConfig could move into options: (homelab.profile.moveable).

The YAML offered must mean what the Nix meant: it is read back the way a profile is read
(`load_text` with tags under options:), compiled like options.nix, and both are evaluated
with the real nix-instantiate and compared.
"""

from __future__ import annotations

from typing import Any

import pytest

from homelab.nix.expr import Module
from homelab.nix.render import render
from homelab.profile.moveable import Moves, moves
from homelab.profile.options import module_tree, settings, tags_allowed
from homelab.yamlfile import load_text
from tests.nixtools import nix_eval_many, nix_eval_modules

ARGS = ("config", "lib", "pkgs")
PKGS = ("htop", "git", "python3Packages.requests", "linuxPackages_latest", "restic")
CONFIG = {"services": {"x": {"port": 8080, "enable": True}}, "users": {"users": {}}}


def options_module(found: Moves) -> str:
    """The YAML offered, read as a profile's options: and written as options.nix is."""
    doc, problems = load_text("profile.yaml", found.yaml(), tags_allowed)
    assert doc is not None and not problems, problems
    written, problems_ = settings(doc.data["options"], ("options",))
    assert not problems_, problems_
    return render(Module(ARGS, module_tree(written)))


def moved_lines(text: str, found: Moves) -> str:
    """The bindings of `text` that moved, as a module of their own."""
    lines = text.split("\n")
    kept = [
        line for m in found.moves for line in lines[m.first - 1 : m.last]
    ]  # (bindings form: line n of extraConfig is lines[n - 1])
    return "{ config, lib, pkgs, ... }:\n{\n" + "\n".join(kept) + "\n}\n"


def same_in_nix(text: str, found: Moves) -> tuple[Any, Any]:
    before, after = nix_eval_modules(
        [moved_lines(text, found), options_module(found)], config=CONFIG, pkgs=PKGS
    )
    return before, after


PLAIN = """\
services.fwupd.enable = true;
boot.kernel.sysctl."vm.swappiness" = 10;
services.foo.limit = -3;
services.foo.ratio = 0.25;
services.foo.empty = null;
networking.hostName = "nas";
services.foo.quoted = "a \\"b\\" \\${c} \\\\ $$d\\ttab";
services.foo.words = [ "yes" "no" "null" "1.0" "~" "" "@x" "a: b" "- c" "#d" ];
fileSystems."/srv/media" = {
  device = "/dev/disk/by-label/media";
  fsType = "ext4";
  options = [ "noatime" "nofail" ];
};
networking.hosts."10.0.0.2" = [ "nas.lan" ];
services.foo.settings = { "a.b" = 1; c.d = { e = false; }; "x/y" = [ ]; z = { }; };
systemd.services.backup = {
  script = ''
    restic backup /srv
      --verbose
    echo "done" ''${HOME}
  '';
  startAt = "daily";
};
environment.systemPackages = [ pkgs.git pkgs.python3Packages.requests ];
environment.etc.tools.text = "x";
users.users.alice.packages = with pkgs; [ htop git python3Packages.requests ];
boot.kernelPackages = pkgs.linuxPackages_latest;
networking.firewall.enable = lib.mkForce false;
services.foo.name = lib.mkDefault "true";
services.foo.ports = lib.mkForce [ 80 443 ];
"""


def test_plain_values_move_as_yaml_and_mean_the_same() -> None:
    found = moves(PLAIN)
    assert found.form == "bindings" and not found.errors
    assert not found.stays, found.stays
    assert [m.as_nix for m in found.moves] == [""] * len(found.moves)
    yaml_text = found.yaml()
    for line in (
        "options:",
        "  # extraConfig line 1",
        "  services.fwupd.enable: true",
        '  boot.kernel.sysctl."vm.swappiness": 10',
        "  # extraConfig lines 9-13",
        '  fileSystems."/srv/media":',
        "    options: [noatime, nofail]",
        '  networking.hosts."10.0.0.2": [nas.lan]',
        "    '\"a.b\"': 1",
        "    script: |",
        "      restic backup /srv",
        "        --verbose",
        "  users.users.alice.packages: [!pkg htop, !pkg git, !pkg python3Packages.requests]",
        "  boot.kernelPackages: !pkg linuxPackages_latest",
        "  networking.firewall.enable: !force false",
        '  services.foo.name: !default "true"',
        "  services.foo.ports: !force [80, 443]",
    ):
        assert line + "\n" in yaml_text, line
    before, after = same_in_nix(PLAIN, found)
    assert before == after
    assert after["services"]["foo"]["settings"] == {
        "a.b": 1,
        "c": {"d": {"e": False}},
        "x/y": [],
        "z": {},
    }
    assert after["systemd"]["services"]["backup"]["script"] == (
        'restic backup /srv\n  --verbose\necho "done" ${HOME}\n'
    )


NIX_VALUES = """\
services.nginx.virtualHosts."a.com".locations."/".proxyPass =
  "http://127.0.0.1:${toString config.services.x.port}";
services.y.enable = lib.mkIf config.services.x.enable true;
services.y.f = x: x + 1;
services.y.list = [ 1 ] ++ [ 2 ];
services.y.local = let a = 2; in a * 3;
services.y.pkgs = with pkgs; lib.optional true htop;
systemd.services.x.script = ''
  ${pkgs.restic}/bin/restic backup
'';
services.y.cond = if config.services.x.enable then "on" else "off";
"""


def test_nix_values_move_as_nix_saying_why() -> None:
    found = moves(NIX_VALUES)
    assert not found.stays, found.stays
    assert [(m.lines, m.key, m.as_nix) for m in found.moves] == [
        (
            "lines 1-2",
            'services.nginx.virtualHosts."a.com".locations."/".proxyPass',
            "string interpolation (`${…}`)",
        ),
        ("line 3", "services.y.enable", "calls `lib.mkIf`"),
        ("line 4", "services.y.f", "a function"),
        ("line 5", "services.y.list", "an operator (`++`)"),
        ("line 6", "services.y.local", "a `let`"),
        ("line 7", "services.y.pkgs", "a `with`"),
        ("lines 8-10", "systemd.services.x.script", "string interpolation (`${…}`)"),
        ("line 11", "services.y.cond", "an `if`"),
    ]
    yaml_text = found.yaml()
    assert "  # extraConfig line 3, as Nix: calls `lib.mkIf`\n" in yaml_text
    assert "  services.y.enable: !nix lib.mkIf config.services.x.enable true\n" in yaml_text
    # a multi-line value keeps its lines, shifted left as far as the binding's indentation
    assert "  systemd.services.x.script: !nix |-\n    ''\n      ${pkgs.restic}" in yaml_text
    before, after = same_in_nix(NIX_VALUES, found)
    assert before == after
    assert after["services"]["y"]["list"] == [1, 2]
    assert after["services"]["y"]["cond"] == "on"


STAYS = """\
imports = [ ./hardware.nix ];
services.a.configFile = ./a.conf;
services.b.source = "${./b.conf}";
nix.nixPath = [ "nixpkgs=${<nixpkgs>}" ];
services.${"c"}.enable = true;
services.${config.name}.enable = true;
inherit (pkgs) hello;
users.users.bob.password = "secret";
users.users.carol = { initialPassword = "secret"; };
options.foo = lib.mkOption { };
services.d.enable = true;
users.users.dan = { password = config.x; };
"""
PLAINTEXT = (
    "a plaintext {} is not allowed: it would be stored in the world-readable Nix store; "
    "use hashedPassword (make one with `mkpasswd -m yescrypt`) or hashedPasswordFile"
)


def test_what_must_stay_nix_and_why() -> None:
    found = moves(STAYS)
    assert [(m.first, m.key) for m in found.moves] == [
        (5, "services.c.enable"),
        (11, "services.d.enable"),
    ]
    reasons = {s.first: (s.text, s.reason) for s in found.stays}
    assert reasons == {
        1: (
            "imports = [ ./hardware.nix ];",
            "`imports` belongs to the module itself, it is no option: "
            "list the modules under modules: instead",
        ),
        2: (
            "services.a.configFile = ./a.conf;",
            "it holds a path (`./a.conf`), which Nix reads relative to the file it is written in",
        ),
        3: (
            'services.b.source = "${./b.conf}";',
            "it holds a path (`./b.conf`), which Nix reads relative to the file it is written in",
        ),
        4: (
            'nix.nixPath = [ "nixpkgs=${<nixpkgs>}" ];',
            "it holds a path (`<nixpkgs>`), which Nix reads relative to the file it is written in",
        ),
        6: ("services.${config.name}.enable = true;", "its name is computed (`${…}`)"),
        7: ("inherit (pkgs) hello;", "an `inherit`: it names no option"),
        8: ('users.users.bob.password = "secret";', PLAINTEXT.format("password")),
        9: (
            'users.users.carol = { initialPassword = "secret"; };',
            PLAINTEXT.format("initialPassword"),
        ),
        12: (
            "users.users.dan = { password = config.x; };",
            PLAINTEXT.format("password"),
        ),
        10: (
            "options.foo = lib.mkOption { };",
            "`options` belongs to the module itself, it is no option",
        ),
    }


MODULE = """\
{ config, lib, pkgs, modulesPath, ... }:
let
  port = 8080;
in
{
  imports = [ (modulesPath + "/profiles/minimal.nix") ];
  services.a.port = port;
  services.b.enable = true;
  services.c.user = config.users.users.alice.name or "alice";
  networking.extraHosts = "${toString port} x";
  config.networking.domain = "lan";
  config = {
    services.e.enable = lib.mkDefault false;
    services.f.packages = [ pkgs.htop ];
  };
  services.g.path = modulesPath;
}
"""


def test_a_whole_module_moves_the_bindings_of_the_set_it_returns() -> None:
    found = moves(MODULE)
    assert found.form == "module" and not found.errors
    assert [(m.first, m.last, m.key, m.value, m.as_nix) for m in found.moves] == [
        (8, 8, "services.b.enable", True, ""),
        (
            9,
            9,
            "services.c.user",
            {"!nix": 'config.users.users.alice.name or "alice"'},
            "uses `config.users.users.alice.name…`",
        ),
        (11, 11, "networking.domain", "lan", ""),  # config.X is the option X
        (13, 13, "services.e.enable", {"!default": False}, ""),
        (14, 14, "services.f.packages", [{"!pkg": "htop"}], ""),
    ]
    assert [(s.lines, s.reason) for s in found.stays] == [
        (
            "line 6",
            "`imports` belongs to the module itself, it is no option: "
            "list the modules under modules: instead",
        ),
        ("line 7", "it uses `port`, bound by the `let` around the bindings"),
        ("line 10", "it uses `port`, bound by the `let` around the bindings"),
        ("line 16", "it uses `modulesPath`, bound by an argument of the whole module"),
    ]
    before, after = nix_eval_modules(
        [
            "{ config, lib, pkgs, ... }: {\n"
            "  services.b.enable = true;\n"
            '  services.c.user = config.users.users.alice.name or "alice";\n'
            '  networking.domain = "lan";\n'
            "  services.e.enable = lib.mkDefault false;\n"
            "  services.f.packages = [ pkgs.htop ];\n}\n",
            options_module(found),
        ],
        config=CONFIG,
        pkgs=PKGS,
    )
    assert before == after


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "{ lib, ... }: with lib; {\n  a.b = mkForce true;\n}",
            "it uses `mkForce`, from the `with lib;` around the bindings",
        ),
        (
            "{ pkgs, ... }: {\n  a.b = lib.mkForce true;\n}",
            None,  # `lib` unbound: Nix refuses the module, so does homelab
        ),
        (
            "rec {\n  a.b = 1;\n  c = a.b;\n}",
            "it uses `a`, bound by a binding of the `rec` set",
        ),
    ],
)
def test_names_from_around_the_bindings_keep_them_in_nix(text: str, reason: str | None) -> None:
    found = moves(text)
    if reason is None:
        assert found.errors and not found.moves and not found.stays
        return
    assert reason in [s.reason for s in found.stays]


def test_a_module_that_is_no_set_of_bindings_stays_whole() -> None:
    found = moves("{ lib, ... }:\nlib.mkMerge [\n  { a = 1; }\n]")
    assert not found.moves
    assert [(s.lines, s.text, s.reason) for s in found.stays] == [
        (
            "lines 1-4",
            "{ lib, ... }:",
            "the module returns `lib.mkMerge [ { a = 1; } ]`, not a set of bindings",
        )
    ]


def test_with_pkgs_prefers_names_bound_outside_it() -> None:
    # `lib` in `with pkgs; [ lib ]` is the module's lib, not pkgs.lib: it stays Nix
    found = moves("a = with pkgs; [ htop lib ];\nb = with pkgs; [ htop ];")
    assert [(m.key, m.value, m.as_nix) for m in found.moves] == [
        ("a", {"!nix": "with pkgs; [ htop lib ]"}, "a `with`"),
        ("b", [{"!pkg": "htop"}], ""),
    ]


def test_extra_config_that_does_not_parse_moves_nothing() -> None:
    found = moves("services.a.enable = true\nservices.b.enable = true;")
    assert found.errors and not found.moves and not found.stays
    assert found.yaml() == ""


def test_empty_extra_config_moves_nothing() -> None:
    assert moves("  \n") == Moves("bindings")


INDENTED = [
    "''\n  a\n  b\n''",
    "''\n    a\n  b\n  ''",
    "''a\n  b''",
    "''  \n  x''",
    "''\n  ''$x\n  y\n''",
    "''\n  '''a\n   b\n''",
    "''\n  ''\\n  x\n''",
    "''\n  x ''\\t y\n   ''",
    "''\n\n   a\n\n  b\n   \n''",
    "''\n  a$b $$ $'x'\n''",
    "''''",
    "''\n''",
    "''\n  ''\\ x\n  y''",
    "''\n  a\n ''\\ \n  b''",
    "''\n   a\n  '''\n  ''",
    "''\n\ta\n  b''",
    "'' a\n b\n  ''",
    "''\n  a  \n  b  \n  ''",
    '"a\\nb\\tc\\\\d\\"e\\${x} $$ f\\q"',
    '"multi\n  line"',
    '"\\\n"',
]


def test_strings_are_read_as_nix_reads_them() -> None:
    got = []
    for text in INDENTED:
        found = moves(f"a = {text};")
        assert [m.as_nix for m in found.moves] == [""], text
        got.append(found.moves[0].value)
    assert got == nix_eval_many(INDENTED)


def test_line_numbers_are_those_of_extra_config() -> None:
    text = "\n# a comment\nservices.a = {\n  enable = true;\n};\n\nservices.b.enable = false;\n"
    found = moves(text)
    assert [(m.lines, m.key) for m in found.moves] == [
        ("lines 3-5", "services.a"),
        ("line 7", "services.b.enable"),
    ]


TEXTS = [
    "\n",
    "a\n\n",
    " lead",
    "trail ",
    "x \ny",
    "tab\there",
    "ünï ☃",
    "# not a comment",
    "a\n  b\n",
    "\n\nx",
    "line\r\nbreak",
    "'quoted'",
    '"double"',
    "key: value",
    "!pkg htop",
]


def nix_string(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
        .replace("${", "\\${")
    )
    return f'"{escaped}"'


def test_any_text_reads_back_as_the_same_text() -> None:
    text = "".join(f"services.t.v{i} = {nix_string(t)};\n" for i, t in enumerate(TEXTS))
    text += "".join(
        f"services.f.v{i} = lib.mkForce {nix_string(t)};\n" for i, t in enumerate(TEXTS)
    )
    found = moves(text)
    assert not found.stays, found.stays
    before, after = same_in_nix(text, found)
    assert before == after
    assert after["services"]["t"] == {f"v{i}": t for i, t in enumerate(TEXTS)}


def test_a_rec_set_keeps_the_bindings_its_own_values_use() -> None:
    found = moves("rec {\n  a.b = 1;\n  c = a.b;\n  d = 2;\n}")
    assert [(m.first, m.key) for m in found.moves] == [(4, "d")]
    assert [(s.first, s.reason) for s in found.stays] == [
        (2, "other bindings of the `rec` set use `a`"),
        (3, "it uses `a`, bound by a binding of the `rec` set"),
    ]


PARTLY = """\
systemd.services.backup = {
  description = "backup";
  script = ''
    ${pkgs.restic}/bin/restic backup /srv
  '';
  path = [ pkgs.git (lib.getExe pkgs.restic) ];
  startAt = "daily";
};
networking.firewall = lib.mkForce { enable = config.services.x.enable; };
services.a = { x = 1; };
services.a = { y = config.services.x.port; };
"""


def test_a_set_moves_as_yaml_with_only_its_nix_parts_as_nix() -> None:
    found = moves(PARTLY)
    assert not found.stays, found.stays
    assert [(m.lines, m.key, m.as_nix) for m in found.moves] == [
        ("lines 1-8", "systemd.services.backup", "string interpolation (`${…}`)"),
        ("line 9", "networking.firewall", "uses `config.services.x.enable`"),
        ("line 10", "services.a", ""),
        # Nix joins the two sets; YAML would not take `services.a` twice
        ("line 11", "services.a.y", "uses `config.services.x.port`"),
    ]
    yaml_text = found.yaml()
    assert (
        "  # extraConfig lines 1-8, partly as Nix: string interpolation (`${…}`)\n"
        "  systemd.services.backup:\n"
        "    description: backup\n"
        "    script: !nix |-\n"
        "      ''\n"
        "        ${pkgs.restic}/bin/restic backup /srv\n"
        "      ''\n"
        "    path: [!pkg git, !nix lib.getExe pkgs.restic]\n"
        "    startAt: daily\n"
    ) in yaml_text
    assert "  networking.firewall: !force\n    enable: !nix config.services.x.enable\n" in yaml_text
    before, after = same_in_nix(PARTLY, found)
    assert before == after
    assert after["services"]["a"] == {"x": 1, "y": 8080}


def test_a_set_given_twice_stays_when_its_names_cannot_be_spelled_out() -> None:
    found = moves("a = { inherit (pkgs) hello; };\na = { y = 2; };\n")
    assert [(m.key, m.value) for m in found.moves] == [("a", {"!nix": "{ inherit (pkgs) hello; }"})]
    assert [(s.first, s.reason) for s in found.stays] == [
        (2, "`a` is set on line 1 too, and Nix joins the two: move them together by hand")
    ]


def test_what_options_set_already_is_not_offered_again() -> None:
    text = "services.a.enable = true;\nservices.b = { enable = true; };\nservices.c.port = 1;\n"
    written = {"services.a": {"enable": False}, "services": {"b": {"port": 2}}, "c": 1}
    found = moves(text, written)
    assert found.has_options
    assert [(m.key, m.already) for m in found.moves] == [
        ("services.a.enable", "services.a.enable"),
        ("services.b", ""),  # (other options of services.b)
        ("services.c.port", ""),
    ]
    assert [m.key for m in found.to_paste] == ["services.b", "services.c.port"]
    whole = moves("services = { a = { x = 1; }; };", {"services.a.x": 2})
    assert [(m.key, m.already) for m in whole.already] == [("services", "services.a.x")]
    assert not moves(text, {}).has_options
