"""extraConfig that Nix refuses is refused by homelab first: Nix itself is the oracle.

Each snippet goes through homelab's own check of a profile (`Lab.load_host`, which runs
validation) and through ``nix-instantiate --parse`` of the ``extra.nix`` homelab writes for
it: the real file from `compile_host` when homelab accepts the snippet, and the same text
(``{ config, lib, pkgs, ... }:`` around the bindings, or the module as it is) when it
refuses it.  The two must agree, but for the few differences listed below with their
reasons, which are checked too so that the list stays true.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import yaml

from homelab.catalog import Catalog
from homelab.compile import ARGS, compile_host
from homelab.lab import Lab
from homelab.nix.syntax import check_module_body
from tests.conftest import copy_lab
from tests.nixtools import nix_instantiate, nix_parse_all

pytestmark = pytest.mark.nix

FOLDER = "oracle"
PROFILE = f"hosts/{FOLDER}/profile.yaml"

THE_ISSUE = ["x.y = or;", "x.y = b.c;"]

BINDINGS = [
    # keywords where Nix wants a value or a name
    "a = or;",
    "a = [ or ];",
    "a = f (or);",
    "a = { }: or;",
    "a = { or }: 1;",
    "a = or: 1;",
    "a = lib.if;",
    "a.if.b = 1;",
    "inherit (lib) if;",
    "a = { b.then = 1; };",
    "a = let or = 1; in or;",
    "a.or = 1;",
    "a = lib.or;",
    "a = lib ? or;",
    "a = lib.a or lib.b or null;",
    "a = map or [ ];",
    "a = let or = 1; in map or [ ];",
    "a = let or = 1; in [ map or ];",
    "a = let or = 1; in [ map or or ];",
    "a = let or = 1; in toString or or;",
    "a = let or = 1; in { inherit or; };",
    "inherit or;",
    '"if" = 1;',
    # paths
    "a = ./a/;",
    "a = /a/b/;",
    "a = ~/a/;",
    "a = a/b/;",
    "a = ./a/${lib.x}/;",
    "a = ./a${lib.x}/;",
    "a = ./a//b;",
    "a = .//a;",
    "a = { }//{ };",
    "a = ./a//${lib.x};",
    "a = ./a/${lib.x}//b;",
    "a = ./a;",
    "a = ./a/${lib.x};",
    "a = ./${lib.x};",
    "a = /etc/nixos/x.nix;",
    "a = ~/x;",
    "a = ~/a${lib.x};",
    "a = <nixpkgs>;",
    "a = <nixpkgs/nixos>;",
    "a = ./.;",
    "a = ../a;",
    "a = ./a.b-c+d_e;",
    # numbers
    "a = 9223372036854775807;",
    "a = 9223372036854775808;",
    "a = -9223372036854775808;",
    "a = 99999999999999999999;",
    "a = 1.7e308;",
    "a = 1.8e308;",
    "a = 1.0e-310;",
    "a = 0.0e-400;",
    "a = 1.5;",
    "a = 1.;",
    "a = .5;",
    "a = 1e3;",
    # comparisons do not chain
    "a = 1 == 2 == 3;",
    "a = 1 < 2 < 3;",
    "a = 1 != 2 == 3;",
    "a = 1 <= 2 >= 3;",
    "a = 1 < 2 == true;",
    "a = (1 == 2) == false;",
    "a = 1 == 2 && 2 == 3;",
    "a = lib ? b ? c;",
    "a = true -> false -> true;",
    # names computed where Nix wants them written
    "a = let ${lib.x} = 1; in 1;",
    'a = let ${"x"} = 1; in x;',
    "a = let a.${lib.x} = 1; in a;",
    "a = { inherit ${lib.x}; };",
    "a = { inherit (lib) ${lib.x}; };",
    'a = { inherit (lib) ${"mkIf"}; };',
    'a = { inherit (lib) "mkIf"; };',
    'inherit (lib) "${lib.x}";',
    # attributes and arguments given twice
    "a = { x }@x: x;",
    "a = x@{ x }: x;",
    "a = { b, c ? b }@d: [ b c d ];",
    "a.${lib.x}.b = 1;\na = 2;",
    'a."${lib.x}" = 1;\na.b = 2;',
    '${"a"} = 1;\na = 2;',
    "${''a''} = 1;\na = 2;",
    "a = { b = 1; };\na = { c = 2; };",
    "a = { b = 1; };\na = { b = 2; };",
    "a = { b = 1; };\na = 2;",
    # names: the module's arguments, Nix's globals, let, rec, functions, inherit, with
    "a = config.networking.hostName;",
    "a = lib.mkIf true 1;",
    "a = pkgs.hello;",
    "a = builtins.map;",
    "a = map toString [ ];",
    "a = import ./x.nix;",
    'a = throw "x";',
    "a = true && false || null == null;",
    "a = __add 1 2;",
    "a = __curPos;",
    "a = [ derivation fetchTarball fetchGit scopedImport placeholder removeAttrs ];",
    "a = [ baseNameOf dirOf isNull abort fromTOML derivationStrict fetchTree ];",
    "a = [ __currentSystem __nixPath __storeDir __nixVersion __langVersion ];",
    "a = options.services;",
    "a = modulesPath;",
    "a = inputs.self;",
    "a = specialArgs;",
    "a = filter (x: x) [ ];",
    "a = add 1 2;",
    "a = pkg.hello;",
    "a = hostname;",
    "inherit hostname;",
    "inherit lib;",
    "inherit (pkgs) hello;",
    "inherit __curPos;",
    "${lib.x} = 1;",
    "${x} = 1;",
    'a."${b}" = 1;',
    'a = "${c}";',
    "a = ''${c}'';",
    "a = ./a/${c};",
    "a = lib ? ${y};",
    "a = lib.${y} or 1;",
    "a = lib.x or y;",
    "a = lib.x or config;",
    "a = { b = 1; c = b; };",
    "a = rec { b = 1; c = d; };",
    "a = rec { b = 1; c = b; };",
    "a = rec { inherit b; };",
    "a = rec { b = lib; inherit (b) mkIf; c = mkIf; };",
    "a = let b = 1; in b;",
    "a = let b = c; c = 1; in b;",
    "a = let inherit (lib) mkIf; in mkIf;",
    "a = let inherit mkIf; in mkIf;",
    "a = let { b = 1; body = b; };",
    "a = let { body = c; };",
    "a = x: x;",
    "a = x: y;",
    "a = { b ? c }: b;",
    "a = { b ? c, c }: b;",
    "a = { b ? d }@d: b;",
    "a = with lib; mkIf true 1;",
    "a = with lib; undefinedThing;",
    "a = with undefinedThing; 1;",
    "a = (with lib; mkIf) undefinedThing;",
    "a = with lib; { b = c; inherit d; };",
    "a = with lib; x: y;",
    "environment.systemPackages = with pkgs; [ git vim ];",
    # strings
    'a = "$${x}";',
    "a = ''$${x}'';",
    'a = "\\${x}";',
    "a = ''''${x}'';",
    'a = "${}";',
    "a = ''${}'';",
    "a = ''\n  ${toString 1}\n  ''${not}\n'';",
    # nested past what Nix's parser takes ("memory exhausted")
    "a = " + "(" * 20_000 + "1" + ")" * 20_000 + ";",
    # a whole profile's worth
    'services.fwupd.enable = true;\nnetworking.hostId = "abcd";\nboot.kernelParams = [ "quiet" ];',
]

MODULES = [
    "{ config, ... }: { }",
    "{ config, pkgs, ... }: { environment.systemPackages = [ pkgs.git ]; }",
    "{ ... }: { a = pkgs.git; }",
    "{ a = pkgs.git; }",
    "{ lib, ... }: with lib; { a = mkIf true 1; }",
    "{ config, ... }: with lib; { }",
    "args@{ pkgs, ... }: { a = args.lib; }",
    '{ modulesPath, ... }: { imports = [ (modulesPath + "/x.nix") ]; }',
    "{ options, inputs, specialArgs, ... }: { a = [ options inputs specialArgs ]; }",
    "let x = 1; in { a = x; }",
    "let x = pkgs; in { }",
    "rec { a = 1; b = a; }",
    "{ config, ... }: { a = or; }",
    "{ config, ... }: { a = ./b/; }",
    "{ config, config }: { }",
]

#: Refused by homelab although Nix 2.8 reads them: (snippet, words of homelab's message).
KNOWN_STRICTER = {
    # tree-sitter-nix reads a path, Nix the update operator: homelab asks for spaces
    "a = lib//pkgs;": "update operator",
    "a = { }//lib;": "update operator",
    # tree-sitter-nix cannot read `~/${`
    "a = ~/${lib.x};": "cannot check a path",
    # trailing `,` and empty inherit: the renderer needs a text tree-sitter-nix reads
    "a = { b, c, }: b;": "a `,` with no argument after it",
    "{ b, }: { }": "a `,` with no argument after it",
    "inherit;": "`inherit` names nothing",
    "a = { inherit (lib); };": "`inherit` names nothing",
    # homelab checks 300 levels of nesting, Nix takes thousands
    "a = " + "(" * 400 + "1" + ")" * 400 + ";": "levels deep",
}

#: Accepted by homelab although Nix 2.8 refuses them: global in the newer Nix that the
#: machines run (`homelab.nix.scope.NEWER_GLOBALS`).
KNOWN_LENIENT = ["a = break;", "a = __warn;"]


# ---- a seeded sample of generated snippets ----------------------------------------------

_GOOD_NAMES = ["config", "lib", "pkgs", "builtins", "map", "true", "null", "toString", "__curPos"]
_BAD_NAMES = ["or", "if", "options", "x", "filter", "inputs", "in"]
_NAMED_ATTRS = ["a", "b", '"c d"', "or", '${"e"}', "${''f''}"]
_GOOD_ATTRS = [*_NAMED_ATTRS, "${lib.x}", '"${lib.y}"']
_BAD_ATTRS = ["${x}", "if", "1", "rec"]
_GOOD_ATOMS = ["1", "1.5", '"s"', "''s''", "./p", "/p", "~/p", "<p>", "[ ]", "{ }", '"$${x}"']
_BAD_ATOMS = ["./p/", "9223372036854775808", "1.0e-400", "./a//b", "a//b", '"${}"', "~/p/"]


class _Snippets:
    """Random extraConfig texts: mostly good, with a bad piece now and then."""

    def __init__(self, seed: int, bad: float = 0.015) -> None:
        self.r = random.Random(seed)
        self.bad = bad
        self.bound: list[str] = []

    def pick(self, good: list[str], bad: list[str]) -> str:
        return self.r.choice(bad if self.r.random() < self.bad else good)

    def name(self) -> str:
        if self.bound and self.r.random() < 0.4:
            return self.r.choice(self.bound)
        return self.pick(_GOOD_NAMES, _BAD_NAMES)

    def path(self) -> str:
        return ".".join(self.pick(_GOOD_ATTRS, _BAD_ATTRS) for _ in range(self.r.randint(1, 3)))

    def binds(self, depth: int, names: list[str] | None = None) -> str:
        out = []
        for _ in range(self.r.randint(1, 3)):
            roll = self.r.random()
            if roll < 0.1:
                out.append(f"inherit {self.name()};")
            elif roll < 0.2:
                out.append(f"inherit ({self.expr(depth)}) {self.pick(_NAMED_ATTRS, _BAD_ATTRS)};")
            elif names is not None:
                name = self.r.choice(["u", "v", "hostname", "or", "port"])
                names.append(name)
                out.append(f"{name} = {self.expr(depth)};")
            else:
                out.append(f"{self.path()} = {self.expr(depth)};")
        return " ".join(out)

    def scoped(self, names: list[str], make: Callable[[], str]) -> str:
        before = list(self.bound)
        self.bound.extend(names)
        try:
            return make()
        finally:
            self.bound = before

    def expr(self, depth: int) -> str:
        if depth <= 0:
            return self.name() if self.r.random() < 0.5 else self.pick(_GOOD_ATOMS, _BAD_ATOMS)
        d = depth - 1
        roll = self.r.randint(0, 11)
        if roll == 0:
            operator = self.r.choice(["+", "==", "<", "//", "++", "&&", "->"])
            return f"({self.expr(d)}) {operator} {self.expr(0)}"
        if roll == 1:
            return f"({self.expr(d)}) {self.expr(0)}"
        if roll == 2:
            name = self.r.choice(["u", "v", "n"])
            return self.scoped([name], lambda: f"{name}: {self.expr(d)}")
        if roll == 3:
            names = self.r.sample(["u", "v", "w"], self.r.randint(0, 2))
            head = "{ " + ", ".join([*names, "..."]) + " }@args"
            return self.scoped([*names, "args"], lambda: f"{head}: {self.expr(d)}")
        if roll == 4:
            names: list[str] = []
            bindings = self.binds(d, names)
            return self.scoped(names, lambda: f"let {bindings} in {self.expr(d)}")
        if roll == 5:
            names = []
            return self.scoped(names, lambda: f"rec {{ {self.binds(d, names)} }}")
        if roll == 6:
            return f"with {self.expr(d)}; {self.expr(d)}"
        if roll == 7:
            return f"if {self.expr(d)} then {self.expr(d)} else {self.expr(d)}"
        if roll == 8:
            return f"{{ {self.binds(d)} }}"
        if roll == 9:
            return f"{self.name()}.{self.path()} or {self.expr(0)}"
        if roll == 10:
            return f'"a${{{self.expr(d)}}}b"'
        if self.r.random() < 0.2:  # `f or` is f applied to a variable `or`
            return f"[ {self.expr(0)} {self.expr(0)} or ]"
        return f"[ {self.expr(0)} ({self.expr(d)}) ]"

    def snippet(self) -> str:
        return self.binds(3)


def generated(count: int, seed: int) -> list[str]:
    maker = _Snippets(seed)
    out: dict[str, None] = {}
    while len(out) < count:
        out[maker.snippet()] = None
    return list(out)


# ---- homelab and Nix, side by side ------------------------------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lab, Catalog]:
    root = copy_lab("basic", tmp_path_factory.mktemp("oracle") / "lab")
    return Lab(root), Lab(root).load().catalog


def homelab_writes(lab: tuple[Lab, Catalog], snippet: str) -> tuple[list[str], str]:
    """homelab's problems with the snippet as a profile's extraConfig, and the extra.nix
    it writes for it (or would write, had it not refused it)."""
    the_lab, catalog = lab
    text = yaml.safe_dump({"host": {"stateVersion": "24.05"}, "extraConfig": snippet})
    state = the_lab.load_host(FOLDER, catalog, texts={PROFILE: text})
    problems = [p.message for p in state.problems]
    assert all(p.path == "extraConfig" for p in state.problems), problems
    if state.profile is not None and not problems:
        return [], compile_host(state.profile, catalog)[f"hosts/{FOLDER}/extra.nix"]
    kind, _ = check_module_body(snippet)
    if kind == "module":
        return problems, snippet.strip() + "\n"
    head = "{ " + ", ".join([*ARGS, "..."]) + " }:\n"
    return problems, head + "{\n" + snippet.strip() + "\n}\n"


#: (snippet, homelab's problems, Nix's error or None)
Verdict = tuple[str, list[str], str | None]


def verdicts(lab: tuple[Lab, Catalog], snippets: list[str]) -> list[Verdict]:
    """(snippet, homelab's problems, Nix's error) for each snippet."""
    nix_instantiate()
    written = [homelab_writes(lab, s) for s in snippets]
    accepted = [i for i, (problems, _) in enumerate(written) if not problems]
    refused = [i for i, (problems, _) in enumerate(written) if problems]
    nix: dict[int, str | None] = {}
    for group in (accepted, refused):
        for i, error in zip(group, nix_parse_all([written[i][1] for i in group]), strict=True):
            nix[i] = error
    return [(s, written[i][0], nix[i]) for i, s in enumerate(snippets)]


def _nix_error(output: str) -> str:
    return next((line for line in output.splitlines() if line.startswith("error:")), output)


def disagreements(found: list[Verdict]) -> list[str]:
    out = []
    for snippet, problems, error in found:
        if bool(problems) != (error is not None):
            said = problems[0] if problems else _nix_error(error or "")
            out.append(f"{snippet!r}: homelab {'refuses' if problems else 'accepts'}: {said}")
    return out


def test_the_snippets_of_the_issue_are_refused_by_both(lab: tuple[Lab, Catalog]) -> None:
    found = verdicts(lab, THE_ISSUE)
    assert disagreements(found) == []
    (_, keyword, error1), (_, undefined, error2) = found
    assert error1 is not None and "unexpected OR_KW" in error1
    assert error2 is not None and "undefined variable 'b'" in error2
    assert keyword == [
        "extraConfig is not valid Nix (line 1, column 7 of the text): "
        "`or` is a keyword of Nix: it cannot be a value or an argument name here"
    ]
    assert undefined == [
        "extraConfig is not valid Nix (line 1, column 7 of the text): undefined variable `b`"
    ]


def test_homelab_and_nix_agree_on_every_snippet(lab: tuple[Lab, Catalog]) -> None:
    found = verdicts(lab, BINDINGS + MODULES)
    assert disagreements(found) == []
    # the corpus holds both kinds, or agreeing would prove nothing
    assert sum(1 for _, p, _ in found if p) > 60
    assert sum(1 for _, p, _ in found if not p) > 60


def test_homelab_and_nix_agree_on_generated_snippets(lab: tuple[Lab, Catalog]) -> None:
    found = verdicts(lab, generated(160, seed=9))
    assert disagreements(found) == []
    assert sum(1 for _, p, _ in found if p) > 25
    assert sum(1 for _, p, _ in found if not p) > 50


def test_the_known_differences_are_what_they_say(lab: tuple[Lab, Catalog]) -> None:
    found = verdicts(lab, [*KNOWN_STRICTER, *KNOWN_LENIENT])
    for snippet, problems, error in found:
        if snippet in KNOWN_STRICTER:
            assert error is None, f"{snippet!r}: Nix now refuses it: {error}"
            assert problems and KNOWN_STRICTER[snippet] in problems[0], (snippet, problems)
        else:
            assert not problems, (snippet, problems)
            assert error is not None and "undefined variable" in error, snippet
