"""The renderer: exact text, refusals, and what the real Nix reads back."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homelab.nix.expr import (
    Apply,
    Block,
    Comment,
    Let,
    Module,
    NixPath,
    NixValue,
    NixValueError,
    Pkg,
    Raw,
    Ref,
    SearchPath,
    mk_default,
    mk_force,
    mk_if,
)
from homelab.nix.render import attr_name, render, render_file, shared, string
from tests import nixtools
from tests.nixtools import nix_eval, nix_eval_many, nix_eval_module, nix_parse

ARGS = ("config", "lib", "pkgs")

# Text that has broken Nix string escaping somewhere, sometime.
NASTY = [
    "",
    " ",
    "plain",
    '"',
    "\\",
    "\\\\",
    '\\"',
    "$",
    "$$",
    "${",
    "$${",
    "$$${x}",
    "${x}",
    "\\${x}",
    "$\\{x}",
    "a$",
    "'",
    "''",
    "'''",
    "''''",
    "'${x}",
    "''${x}",
    "'''${x}",
    "''\\n",
    "x'",
    "x''",
    "\n",
    "\n\n",
    "a\n",
    "a\nb",
    "a\nb'",
    "a\nb''",
    "a\nb$",
    "a\n  ",
    "a\n \n",
    "  a\n  b\n",
    "  a\nb\n",
    "\ta\n\tb\n",
    " \ta\n",
    "a\n\n\nb\n\n",
    "a\r\nb\r\n",
    "\r",
    "\r\n",
    "a\rb\n",
    "a\nb\r",
    "a\n'\r",
    "a\n${\n",
    "\t",
    "a\n\t\n",
    "\x01\x02\x1b[31m\x7f",
    "a\n\x01\n",
    "\u2028\u2029\ufeff\u00a0",
    "é🙂\U0010ffff",
    "a\n é\n",
    "}; evil = true; x = {",
    '"; evil = true; x = "',
    "''; evil = true; x = ''",
    "a\n''; evil = true; x = ''\n",
    "# not a comment",
    "/* not a comment */",
]


# ---- exact text ------------------------------------------------------------------------


def test_module_text() -> None:
    module = Module(
        ARGS,
        {
            "boot": {
                "loader": {"systemd-boot": {"enable": True}, "efi": {"canTouchEfiVariables": True}}
            },
            "networking": {"hostName": "demo", "firewall": {"allowedTCPPorts": [22, 80]}},
            "users": {
                "users": {
                    "demouser": Comment(
                        {"isNormalUser": True, "extraGroups": ["wheel"], "shell": Pkg("zsh")},
                        "the\nadmin",
                    )
                }
            },
            "services": {
                "openssh": mk_if(Ref("config.x.enable"), {"enable": True, "ports": [22]}),
                "xserver": Block({"xkb": {"layout": "fr"}}),
            },
            "environment.etc": {"a.b": "x"},
            "imports": [NixPath("./hardware-configuration.nix")],
            "time": {"timeZone": mk_default("Europe/Paris")},
        },
    )
    assert render_file(module, ["generated", "do not edit"]) == (
        "# generated\n"
        "# do not edit\n"
        "{ config, lib, pkgs, ... }:\n"
        "{\n"
        "  boot.loader.efi.canTouchEfiVariables = true;\n"
        "  boot.loader.systemd-boot.enable = true;\n"
        '  "environment.etc"."a.b" = "x";\n'
        "  imports = [ ./hardware-configuration.nix ];\n"
        "  networking.firewall.allowedTCPPorts = [\n"
        "    22\n"
        "    80\n"
        "  ];\n"
        '  networking.hostName = "demo";\n'
        "  services.openssh = lib.mkIf config.x.enable {\n"
        "    enable = true;\n"
        "    ports = [ 22 ];\n"
        "  };\n"
        "  services.xserver = {\n"
        '    xkb.layout = "fr";\n'
        "  };\n"
        '  time.timeZone = lib.mkDefault "Europe/Paris";\n'
        "  # the admin\n"
        "  users.users.demouser = {\n"
        '    extraGroups = [ "wheel" ];\n'
        "    isNormalUser = true;\n"
        "    shell = pkgs.zsh;\n"
        "  };\n"
        "}\n"
    )


def test_comment_stops_collapsing() -> None:
    assert render({"a": Comment({"b": {"c": 1}}, "here")}) == (
        "{\n  # here\n  a = {\n    b.c = 1;\n  };\n}"
    )
    assert render({"a": {"b": Comment(1, "one")}, "z": 2}) == (
        "{\n  # one\n  a.b = 1;\n  z = 2;\n}"
    )
    # in a list: a line above the element
    assert render([Comment(1, "x"), 2]) == "[\n  # x\n  1\n  2\n]"
    assert render(Comment({"a": 1}, "top")) == "{\n  a = 1;\n}"
    # a comment cannot end early or smuggle code
    assert render({"a": Comment(1, "x\ny = 2;\r\x00\u2028")}) == "{\n  # x y = 2;\n  a = 1;\n}"


def test_lists_sets_numbers() -> None:
    assert render([]) == "[ ]"
    assert render({}) == "{ }"
    assert render({"a": {}}) == "{\n  a = { };\n}"
    assert render(["a"]) == '[ "a" ]'
    assert render([-1]) == "[ (-1) ]"
    assert render(("a", "b")) == '[\n  "a"\n  "b"\n]'
    assert render({"a": [-1, 2.5, -3.0e-7, None, True]}) == (
        "{\n  a = [\n    (-1)\n    2.5\n    (-3.0e-07)\n    null\n    true\n  ];\n}"
    )
    assert render(2**63 - 1) == "9223372036854775807"
    assert render(-(2**63)) == "(-9223372036854775807 - 1)"
    assert render(1e16) == "1.0e+16"
    assert render(1e-7) == "1.0e-07"
    assert render(1.0) == "1.0"
    assert render(0.1) == "0.1"


def test_apply_and_raw() -> None:
    value = {
        "c": Apply(Ref("f"), (Apply(Ref("g"), (1,)), -2, [1], "s", Raw("x: x"), Raw("a.b"))),
        "d": mk_force(Let({"x": 1}, Ref("x"))),
        "e": mk_default(Raw("pkgs.hello # the usual")),
    }
    assert render(value) == (
        "{\n"
        '  c = f (g 1) (-2) [ 1 ] "s" (x: x) a.b;\n'
        "  d = lib.mkForce (let\n    x = 1;\n  in\n  x);\n"
        "  e = lib.mkDefault (\n    pkgs.hello # the usual\n  );\n"
        "}"
    )


def test_raw_reindented() -> None:
    raw = Raw("{\n      a = 1;\n      b = ''\n        x\n      '';\n    }\n")
    assert render({"k": Block({"k": raw, "z": 1})}) == (
        "{\n"
        "  k = {\n"
        "    k = {\n"
        "      a = 1;\n"
        "      b = ''\n"
        "        x\n"
        "      '';\n"
        "    };\n"
        "    z = 1;\n"
        "  };\n"
        "}"
    )
    # a "..." string spanning lines, and an '' string with text on its first line, stay
    frozen = Raw("{\n  a = \"x\n  y\";\n  b = ''z\n  w'';\n}")
    assert render({"k": frozen, "z": 1}) == (
        "{\n  k = {\n    a = \"x\n  y\";\n    b = ''z\n  w'';\n  };\n  z = 1;\n}"
    )


def test_strings_text() -> None:
    assert string('a"b\\c${d}$e$${f}\r\t') == '"a\\"b\\\\c\\${d}$e$\\${f}\\r\\t"'
    assert string('a"b\\c${d}\n') == "''\n  a\"b\\c''${d}\n''"
    assert string("l1\n  l2\n") == "''\n  l1\n    l2\n''"
    assert string("l1\nl2") == "''\n  l1\n  l2''"
    assert string("a\n''${x}\r\n", indent=4) == "''\n      a\n      '''''${x}''\\r\n    ''"
    # not safe as '' strings: every line indented, a last line of spaces, only newlines
    assert string("  a\n  b\n") == '"  a\\n  b\\n"'
    assert string("a\n  ") == '"a\\n  "'
    assert string("\n\n") == '"\\n\\n"'


def test_attr_names() -> None:
    assert attr_name("enable") == "enable"
    assert attr_name("systemd-boot") == "systemd-boot"
    assert attr_name("x'") == "x'"
    assert attr_name("a.b") == '"a.b"'
    assert attr_name("") == '""'
    assert attr_name("2fa") == '"2fa"'
    assert attr_name("${x}") == '"\\${x}"'
    assert attr_name("a\nb") == '"a\\nb"'
    for keyword in ("if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"):
        assert attr_name(keyword) == '"' + keyword + '"'
    assert attr_name("true") == "true"


def test_deterministic() -> None:
    a: NixValue = {"b": 1, "a": {"y": 2, "x": 3}, "c": [3, 2]}
    b: NixValue = {"c": [3, 2], "a": {"x": 3, "y": 2}, "b": 1}
    assert render(a) == render(b)
    assert render_file(a, []) == render(a) + "\n"
    assert render_file("x\n", ["h"]) == "# h\n''\n  x\n''\n"


# ---- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["", "a..b", ".a", "a.", "2048", "a b", 'a"', "if", "a.in", "x.${y}", "é", "a/b"]
)
def test_bad_pkg_and_ref(name: str) -> None:
    with pytest.raises(NixValueError):
        Pkg(name)
    with pytest.raises(NixValueError):
        Ref(name)


def test_good_pkg_and_ref() -> None:
    assert render(Pkg("nerd-fonts.fira-code")) == "pkgs.nerd-fonts.fira-code"
    assert render(Pkg("python3Packages.requests")) == "pkgs.python3Packages.requests"
    assert render(Ref("lib.types")) == "lib.types"
    assert render(SearchPath("home-manager/nixos")) == "<home-manager/nixos>"


@pytest.mark.parametrize(
    "path",
    ["x.nix", "./", "/", "./a//b", "./a/", "./a b", "./a;b", "./${x}", "~/x", ".", "./é"],
)
def test_bad_paths(path: str) -> None:
    with pytest.raises(NixValueError):
        NixPath(path)


@pytest.mark.parametrize("path", ["", "a//b", "/a", "a/", "a b", "a>b"])
def test_bad_search_paths(path: str) -> None:
    with pytest.raises(NixValueError):
        SearchPath(path)


@pytest.mark.parametrize(
    "value",
    [
        "a\x00b",
        {"a\x00": 1},
        ["\ud800"],
        math.nan,
        math.inf,
        -math.inf,
        5e-324,
        2**63,
        -(2**63) - 1,
        {1: 2},
        object(),
        {1.5},
    ],
    ids=repr,
)
def test_render_refuses(value: Any) -> None:
    with pytest.raises(NixValueError):
        render(value)


def test_constructors_refuse() -> None:
    with pytest.raises(NixValueError):
        Raw("1; x = 2")
    with pytest.raises(NixValueError):
        Raw("}")
    with pytest.raises(NixValueError):
        Raw("")
    with pytest.raises(NixValueError):
        Module(("config", "if"), {})
    with pytest.raises(NixValueError):
        Module(("config", "config"), {})
    with pytest.raises(NixValueError):
        Let({"a b": 1}, 1)
    with pytest.raises(NixValueError):
        Apply(Pkg("hello"), ())  # type: ignore[arg-type]
    with pytest.raises(NixValueError):
        string("\x00")


# ---- the real Nix --------------------------------------------------------------------------


def nix_value(value: NixValue) -> Any:
    """What Nix's JSON output should be for `value` (plain data only)."""
    if isinstance(value, Comment):
        return nix_value(value.value)
    if isinstance(value, list | tuple):
        return [nix_value(v) for v in value]
    if isinstance(value, dict):
        return {k: nix_value(v) for k, v in value.items()}
    return value


@pytest.mark.nix
def test_nasty_strings_evaluate_back() -> None:
    value: NixValue = {
        "values": NASTY,
        "names": {s: s for s in NASTY},
        "nested": {s: {s: [s, {"k": s}]} for s in NASTY},
        "indented": {"a": {"b": [{"c": s} for s in NASTY]}},
    }
    text = render(value)
    nix_parse(text)
    assert nix_eval(text) == value
    # both forms are exercised
    assert "''\n" in text
    assert '"  a\\n  b\\n"' in text


@pytest.mark.nix
def test_module_evaluates_like_the_values() -> None:
    body: dict[str, NixValue] = {
        "boot": {"loader": {"systemd-boot": {"enable": True}, "timeout": 0}},
        "networking": {"hostName": "demo", "firewall": {"allowedTCPPorts": [22, 80]}},
        "users": {
            "users": {
                "demouser": Comment({"isNormalUser": True, "extraGroups": ["wheel"]}, "admin")
            }
        },
        "environment": {"etc": {"a.b": {"text": "line 1\n  line 2\n"}}},
        "x": {"negative": [-1, -2.5, -(2**63)], "empty": [[], {}], "n": None},
    }
    text = render_file(Module(ARGS, body), ["a header"])
    nix_parse(text)
    assert nix_eval_module(text) == nix_value(body)


@pytest.mark.nix
def test_module_with_lib_pkgs_paths() -> None:
    body: NixValue = {
        "imports": [NixPath("./hardware-configuration.nix"), NixPath("../common/x.nix")],
        "environment": {"systemPackages": [Pkg("git"), Pkg("nerd-fonts.fira-code")]},
        "services": {
            "a": mk_if(Ref("config.a.enable"), {"enable": mk_default(True)}),
            "b": mk_force(Raw("lib.optionals true [ pkgs.hello ]")),
        },
    }
    text = render_file(Module(ARGS, body), [])
    assert nix_eval_module(text, config={"a": {"enable": True}}) == {
        "imports": [NixPath("./hardware-configuration.nix"), NixPath("../common/x.nix")],
        "environment": {"systemPackages": ["pkgs.git", "pkgs.nerd-fonts.fira-code"]},
        "services": {
            "a": {
                "_type": "if",
                "condition": True,
                "content": {"enable": {"_type": "override", "priority": 1000, "content": True}},
            },
            "b": {"_type": "override", "priority": 50, "content": ["pkgs.hello"]},
        },
    }


@pytest.mark.nix
def test_raw_keeps_its_meaning_when_moved() -> None:
    raws = [
        "{\n  a = ''\n    x\n      y\n  '';\n  b = \"q\n  r\";\n}",
        "{\n    a = ''\n      x\n\n     \n    '';\n  }",
        "let\n  s = ''z\n  w'';\nin\n[ s ]",
        "[\n  1 # one\n  2\n]",
        '"${toString 1}\n  ${"x"}"',
    ]
    # alone, and deep inside a set and a list
    alone = nix_eval_many([render(Raw(r)) for r in raws])
    nested: list[NixValue] = [{"a": {"b": [1, {"c": Raw(r), "d": 2}]}} for r in raws]
    assert nix_eval(render(nested)) == [{"a": {"b": [1, {"c": v, "d": 2}]}} for v in alone]


@pytest.mark.nix
def test_numbers_read_back_exactly() -> None:
    floats = [0.1, 0.30000000000000004, 1e16, 1e-7, 2.2250738585072014e-308, 1.7976931348623157e308]
    floats += [-f for f in floats] + [0.0, -0.0, 1.0, 123456789.125]
    checks = [
        Apply(Ref("builtins.elem"), (Apply(Ref("builtins.fromJSON"), (json.dumps(f),)), [f]))
        for f in floats
    ]
    assert nix_eval(render(checks)) == [True] * len(floats)
    ints = [0, 1, -1, 2**63 - 1, -(2**63), -(2**63) + 1]
    assert nix_eval(render({"i": ints})) == {"i": ints}


# ---- properties ----------------------------------------------------------------------------

# keys Nix gives a meaning when printing a set (a set with outPath prints as that)
_SPECIAL_KEYS = {"outPath", "__toString"}

_fragments = st.sampled_from(
    [
        *["'", "''", "$", "{", "}", "${", "$${", "\\", '"', "\n", "\r", "\t", " ", "  ", "#"],
        *["\x01", "\x7f", "\u2028", "é", "a", "b", "/*", "*/", ";", "="],
    ]
)
_text = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00")),
    st.lists(_fragments, max_size=12).map("".join),
    st.lists(st.one_of(_fragments, st.text(max_size=3)), max_size=8)
    .map("".join)
    .filter(lambda s: "\x00" not in s),
)
_key = _text.filter(lambda s: s not in _SPECIAL_KEYS)
_values = st.recursive(
    _text,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_key, children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.nix
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_values, min_size=50, max_size=50))
def test_any_text_evaluates_back(values: list[Any]) -> None:
    """Any text, as values and as attribute names, nested: Nix reads exactly it back.

    Each value is also rendered, wrapped in a Raw and moved deeper (re-indented): it must
    still mean the same.
    """
    moved: NixValue = {"a": {"b": [{"c": Raw(render(v)), "d": 1} for v in values]}}
    text = render([values, moved])
    assert nix_eval(text) == [values, {"a": {"b": [{"c": v, "d": 1} for v in values]}}]


@pytest.mark.nix
@settings(max_examples=10, deadline=None)
@given(
    st.lists(
        st.floats(allow_nan=False, allow_infinity=False).filter(
            lambda f: f == 0 or abs(f) >= 2.2250738585072014e-308
        ),
        min_size=30,
        max_size=30,
    ),
    st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=30, max_size=30),
)
def test_any_number_reads_back(floats: list[float], ints: list[int]) -> None:
    checks = [
        Apply(Ref("builtins.elem"), (Apply(Ref("builtins.fromJSON"), (json.dumps(f),)), [f]))
        for f in floats
    ]
    assert nix_eval(render({"f": checks, "i": ints})) == {"f": [True] * 30, "i": ints}


# ---- the test helpers themselves -------------------------------------------------------


def test_nix_instantiate_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="install Debian's nix-bin"):
        nixtools.nix_instantiate()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="install Debian's nix-bin"):
        nixtools.nix_instantiate()


@pytest.mark.nix
def test_nix_helpers() -> None:
    with pytest.raises(AssertionError, match="already defined"):
        nix_parse("{ a = 1; a = 2; }")
    with pytest.raises(AssertionError, match=r"text 1 of 2:[\s\S]*undefined variable 'nope'"):
        nix_eval_many(["1", "nope"])
    assert nix_eval_many(["1", '"x"', "x: x", "[ ./a.nix /etc/b ]"]) == [
        1,
        "x",
        "<lambda>",
        [NixPath("./a.nix"), NixPath("/etc/b")],
    ]
    module = (
        "{ config, lib, pkgs, modulesPath, ... }: {\n"
        "  a = lib.mkMerge [ (lib.mkBefore 1) (lib.mkOverride 5 2) ];\n"
        '  b = "${pkgs.hello}/bin:" + (lib.getExe pkgs.hello);\n'
        "  c = [ pkgs.python3 pkgs.python3.pkgs.requests ] ++ lib.optional config.x 1;\n"
        '  d = modulesPath + "/installer";\n'
        "}\n"
    )
    assert nix_eval_module(module, config={"x": False}) == {
        "a": {
            "_type": "merge",
            "contents": [
                {"_type": "order", "priority": 500, "content": 1},
                {"_type": "override", "priority": 5, "content": 2},
            ],
        },
        "b": "pkgs.hello/bin:pkgs.hello/bin/pkgs.hello",
        "c": ["pkgs.python3", "pkgs.python3.pkgs.requests"],
        "d": "/nixpkgs/nixos/modules/installer",
    }
    assert nix_eval_module("{ pkgs, ... }: with pkgs; [ git ]", pkgs=["git"]) == ["pkgs.git"]
    assert nix_eval_module("x: x", lib_pkgs_double=False) == "<lambda>"


@pytest.mark.nix
def test_search_path_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "nixos").mkdir()
    (tmp_path / "nixos" / "default.nix").write_text("{ }\n")
    module = render(Module(ARGS, {"imports": [SearchPath("home-manager/nixos")]}))
    monkeypatch.setenv("HOMELAB_TEST_NIX_PATH", f"home-manager={tmp_path}")
    assert nix_eval_module(module) == {"imports": [NixPath(str(tmp_path / "nixos"))]}
    monkeypatch.delenv("HOMELAB_TEST_NIX_PATH")
    with pytest.raises(AssertionError, match="home-manager/nixos"):
        nix_eval_module(module)


def test_a_shared_set_is_written_as_an_unshared_one_at_every_depth() -> None:
    block = {"services": {"jellyfin": Block({"enable": True, "group": "media"})}}
    twice = {
        "config": Apply(Ref("lib.mkMerge"), ([Comment(copy.deepcopy(block), "services.a")],)),
        "nested": {"deeper": Block({"inner": [copy.deepcopy(block)]})},
    }
    expected = render(twice)
    mine = shared(copy.deepcopy(block))
    with_shared = {
        "config": Apply(Ref("lib.mkMerge"), ([Comment(mine, "services.a")],)),
        "nested": {"deeper": Block({"inner": [mine]})},
    }
    assert render(with_shared) == expected
    assert render(with_shared) == expected  # the second time from what the first wrote
    assert "  services.jellyfin = {" in expected
