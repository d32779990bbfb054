"""Checking extraConfig and raw expressions with tree-sitter-nix, and against the real Nix."""

from __future__ import annotations

import time

import pytest

from homelab.compile import ARGS
from homelab.nix.syntax import MODULE_ARGS, NixSyntaxError, check_expression, check_module_body
from tests.nixtools import nix_parse

GOOD_BINDINGS = [
    "",
    "   \n\n",
    "# only a comment\n",
    'services.fwupd.enable = true;\nnetworking.hostId = "abcd";',
    "services.fwupd.enable = true; # trailing comment",
    "/* block */ a = 1;",
    'boot.kernelParams = [ "quiet" ];\nboot.kernel.sysctl."vm.swappiness" = 10;',
    "environment.systemPackages = with pkgs; [ git vim ];",
    "programs.foo.text = ''\n  a ${toString 1}\n  ''${not}\n'';",
    "a.b = 1;\na.c = 2;",
    "a = { b = 1; };\na.c = 2;",
    "inherit (pkgs) hello;",
    "services.x = lib.mkIf config.services.y.enable { enable = true; };",
    'users.users."a.b".x = 1;',
    "x = let y = 1; in y;",
]

GOOD_MODULES = [
    "{ config, pkgs, ... }: { services.x.enable = true; }",
    "{ services.x.enable = true; }",
    "{ }",
    "args: { a = args.config.x; }",
    "{ lib, ... }:\nlet\n  x = 1;\nin\n{\n  a = x;\n}",
    "# comment first\n{ pkgs, ... }: {\n  environment.systemPackages = [ pkgs.git ];\n}\n",
    "rec { a = 1; b = a; }",
]

# (text, kind, line, column, words in the message)
BAD = [
    ("a = 1\nb = 2;", "bindings", 2, 3, "unexpected `=`"),
    ("a = 1;\nb = ;", "bindings", 2, 4, "missing"),
    ('a = "unterminated;\n', "bindings", 1, 5, "unterminated string"),
    ("b = 1;\na = ''", "bindings", 2, 5, "unterminated string"),
    ('a = "x', "bindings", 1, 5, "unterminated string"),
    ("a = 1; /* open", "bindings", 1, 8, "unterminated comment"),
    ("x = [ 1 2", "bindings", 1, 5, "`[` is never closed"),
    ("x = { a = 1;", "bindings", 1, 13, "missing `}`"),
    ("a = f (x;", "bindings", 1, 9, "missing `)`"),
    ("a = let x = 1; x;", "bindings", 1, 5, "`let` is never closed"),
    ("a = 1;;", "bindings", 1, 7, "unexpected `;`"),
    ('a = "é" ++ ;', "bindings", 1, 9, "unexpected `++`"),
    ("é = 1;", "bindings", 1, 1, "unexpected `é`"),
    ("a = 1; a = 2;", "bindings", 1, 8, "`a` already defined at line 1, column 1"),
    ("a.b = 1;\na.b.c = 2;", "bindings", 2, 1, "`a.b.c` already defined"),
    ("a = { b = 1; };\na = { b = 2; };", "bindings", 2, 1, "`a.b` already defined"),
    ("inherit (pkgs) hello;\nhello = 1;", "bindings", 2, 1, "`hello` already defined"),
    ("{ config, ... }: { a = 1 }", "module", 1, 25, "missing `;`"),
    ("{ a, a }: { }", "module", 1, 6, "`a` given twice"),
    ("{ config, ... }:\n{\n  a = 1;\n  a = 2;\n}", "module", 4, 3, "already defined"),
    ("{ a = 1; } { b = 2; }", "module", 1, 1, "expected NixOS option bindings"),
    ("42", "module", 1, 1, "expected NixOS option bindings"),
    ("lib.mkIf true { }", "module", 1, 1, "expected NixOS option bindings"),
]

# Attempts to get out of the `{ ... }` the bindings are put in.
ESCAPES = [
    ("a = 1; } // { b = 2;", 1, 8),
    ("a = 1; };", 1, 8),
    ("a = 1; } // import ./evil.nix // {", 1, 8),
    ("a = {\n  b = 1;\n};\n}", 4, 1),
    ("} : { a = 1;", 1, 1),
    ("a = 1;\n}\n// { b = 2;", 2, 1),
    ("a = 1; }; x = { b = 2;", 1, 8),
]


@pytest.mark.parametrize("text", GOOD_BINDINGS)
def test_good_bindings(text: str) -> None:
    assert check_module_body(text) == ("bindings", [])


@pytest.mark.parametrize("text", GOOD_MODULES)
def test_good_modules(text: str) -> None:
    assert check_module_body(text) == ("module", [])


@pytest.mark.parametrize(("text", "kind", "line", "column", "words"), BAD)
def test_bad_texts(text: str, kind: str, line: int, column: int, words: str) -> None:
    got_kind, errors = check_module_body(text)
    assert got_kind == kind
    assert errors, "an error is reported"
    first = errors[0]
    assert (first.line, first.column) == (line, column), errors
    assert words in first.message


@pytest.mark.parametrize(("text", "line", "column"), ESCAPES)
def test_closing_the_bindings_set_is_refused(text: str, line: int, column: int) -> None:
    kind, errors = check_module_body(text)
    assert kind == "bindings"
    assert errors[0] == NixSyntaxError(
        line, column, "unexpected `}`: it would close the set of bindings"
    )


def test_positions_are_in_the_users_text() -> None:
    # the error after the last line (Nix would say: missing `;` before our `}`)
    kind, errors = check_module_body("a = 1;\nb = 2")
    assert kind == "bindings"
    assert errors[0].line == 2
    assert errors[0].column in (6, 7)
    # columns count characters, not bytes (in bytes it would be 18)
    _, errors = check_module_body('a = "ééé"; b = ;')
    assert errors[0] == NixSyntaxError(1, 15, "missing identifier")
    _, errors = check_module_body("a = 1;\nb = ;")
    assert errors[0] == NixSyntaxError(2, 4, "missing identifier")


def test_check_expression() -> None:
    assert check_expression("1") == []
    assert check_expression("f x y") == []
    assert check_expression("# c\n{ a = 1; } # d") == []
    assert check_expression("") == [NixSyntaxError(1, 1, "expected a Nix expression")]
    assert check_expression("1; 2") == [NixSyntaxError(1, 2, "unexpected `;`")]
    assert check_expression("(") != []
    assert check_expression("x: y:") != []
    assert check_expression('"abc') == [NixSyntaxError(1, 1, "unterminated string")]
    assert check_expression('"${"') == [NixSyntaxError(1, 1, "unterminated string")]
    assert check_expression("[ 1 (2 ]") == [NixSyntaxError(1, 7, "missing `)`")]
    assert check_expression("{ a = 1; a = 2; }")[0].message.startswith("attribute `a` already")


# ---- agreement with the real parser ------------------------------------------------------


def _as_module(bindings: str) -> str:
    # Deliberately raw text: the point is to hand Nix what the checker was given.
    return "{ config, lib, pkgs, ... }: {\n" + bindings + "\n}"


# Refused by design although Nix parses them: not a module, or escaping the bindings' set.
BY_DESIGN = {t for t, _, _, _, w in BAD if w == "expected NixOS option bindings"} | {
    t for t, _, _ in ESCAPES
}


@pytest.mark.nix
def test_agrees_with_nix() -> None:
    """Every text above: Nix's parser accepts it exactly when the checker does."""
    disagreements = []
    texts = GOOD_BINDINGS + GOOD_MODULES + [t for t, *_ in BAD] + [t for t, *_ in ESCAPES]
    for text in texts:
        kind, errors = check_module_body(text)
        # (a module gets the usual names bound around it)
        source = _as_module(text) if kind == "bindings" else "{ config, lib, pkgs, ... }: " + text
        try:
            nix_parse(source)
            nix_good = True
        except AssertionError:
            nix_good = False
        ours = not errors
        if text in BY_DESIGN:
            if ours:
                disagreements.append((text, "should be refused"))
        elif ours != nix_good:
            disagreements.append((text, f"checker {ours}, nix {nix_good}"))
    assert disagreements == []


# ---- where Nix's grammar is stricter than tree-sitter-nix ---------------------------------

# (bindings, line, column, words of the message, words of the hint)
STRICTER = [
    ("x.y = or;", 1, 7, "`or` is a keyword", 'for the text "or"'),
    ("a = [ or ];", 1, 7, "`or` is a keyword", ""),
    ("a = { or }: 1;", 1, 7, "`or` is a keyword", "choose another name"),
    ("a = x: x.if;", 1, 10, "`if` is a keyword of Nix: it cannot be a name", '`"if"`'),
    ("a.then.b = 1;", 1, 3, "`then` is a keyword", '`"then"`'),
    ("inherit (lib) in;", 1, 15, "`in` is a keyword", ""),
    ("a = ./files/;", 1, 5, "path has a trailing slash", "remove the `/`"),
    ("a = ~/x/;", 1, 5, "path has a trailing slash", ""),
    ("a = ./a/${lib.x}/;", 1, 5, "path has a trailing slash", ""),
    ("a = ./a//b;", 1, 5, "Nix cannot read the path `./a//b`", "no empty part"),
    ("a = lib//pkgs;", 1, 8, "update operator", "`a // b`"),
    ("a = 9223372036854775808;", 1, 5, "invalid integer", "64-bit"),
    ("a = 1.8e308;", 1, 5, "invalid float", "64-bit"),
    ("a = 1.0e-310;", 1, 5, "invalid float", ""),
    ("a = 1 == 2 == 3;", 1, 12, "comparisons do not chain in Nix: `==` then `==`", "parentheses"),
    ("a = 1 < 2 <= 3;", 1, 11, "comparisons do not chain", ""),
    ("a = let ${lib.x} = 1; in 1;", 1, 9, "dynamic attributes not allowed in let", ""),
    ('a = { inherit (lib) "${lib.x}"; };', 1, 21, "dynamic attributes not allowed in inherit", ""),
    ("a = { x }@x: x;", 1, 11, "function argument `x` given twice", "`@x` names the whole set"),
    ("a.${lib.x}.b = 1;\na = 2;", 2, 1, "attribute `a` already defined at line 1", ""),
    ("${''a''} = 1;\na = 2;", 2, 1, "attribute `a` already defined", ""),
]

ALLOWED = [
    "a.or = lib.or;",
    "a = lib.x or lib.y or null;",
    "a = let or = 1; in map or [ ];",
    "a = ./a/${lib.x};",
    "a = ./a//${lib.x};",
    "a = { }//{ };",
    "a = 9223372036854775807;",
    "a = 0.0e-400;",
    "a = 1 < 2 == true;",
    'a = let ${"x"} = 1; in x;',
    "a = let a.${lib.x} = 1; in a;",
    'a = { inherit (lib) ${"mkIf"} "mkForce"; };',
    'a."${lib.x}" = 1;\na.b = 2;',
]


@pytest.mark.parametrize(("text", "line", "column", "words", "hint"), STRICTER)
def test_what_nix_refuses_although_tree_sitter_reads_it(
    text: str, line: int, column: int, words: str, hint: str
) -> None:
    kind, errors = check_module_body(text)
    assert kind == "bindings"
    assert errors, "an error is reported"
    assert (errors[0].line, errors[0].column) == (line, column), errors
    assert words in errors[0].message
    assert hint in errors[0].hint


@pytest.mark.parametrize("text", ALLOWED)
def test_what_nix_reads_is_allowed(text: str) -> None:
    assert check_module_body(text) == ("bindings", [])


def test_the_names_bound_around_bindings_are_those_the_compiler_writes() -> None:
    assert MODULE_ARGS == ARGS


def test_raw_expressions_get_the_grammar_rules_but_no_names() -> None:
    assert check_expression("x.if")[0].message.startswith("`if` is a keyword")
    assert check_expression("./a/")[0].message == "path has a trailing slash"
    assert check_expression("anything + undefined") == []  # its names depend on the place


# ---- names that nothing binds ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "hint"),
    [
        ("x.y = b.c;", "b", "bind it with `let b = …; in …`"),
        ("a = options.x;", "options", "extraConfig lines see only config, lib and pkgs"),
        ("a = inputs.self;", "inputs", "`{ config, inputs, ... }: { … }`"),
        ("a = filter (x: x) [ ];", "filter", "write `builtins.filter`"),
        ("a = pkg.hello;", "pkg", "did you mean `pkgs`?"),
        ("a = let hostname = 1; in hostnme;", "hostnme", "did you mean `hostname`?"),
        ("inherit hostname;", "hostname", ""),
        ("a = { b = 1; c = b; };", "b", ""),
        ("a = with undefinedThing; 1;", "undefinedThing", ""),
        ("a = x: y;", "y", ""),
        ("a = let inherit mkIf; in mkIf;", "mkIf", ""),
        ("a = map or [ ];", "or", "for a default, write `set.name or default`"),
    ],
)
def test_a_name_nothing_binds_is_reported_with_a_hint(text: str, name: str, hint: str) -> None:
    kind, errors = check_module_body(text)
    assert kind == "bindings"
    assert [e.message for e in errors] == [f"undefined variable `{name}`"]
    assert hint in errors[0].hint


def test_each_unbound_name_is_reported_once_where_it_is_first_used() -> None:
    _, errors = check_module_body("a = b;\nc = [ b d ];\ne = d;")
    assert errors == [
        NixSyntaxError(1, 5, "undefined variable `b`", errors[0].hint),
        NixSyntaxError(2, 9, "undefined variable `d`", errors[1].hint),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "a = [ config lib pkgs builtins true false null map toString import throw ];",
        "a = [ derivation fetchTarball baseNameOf dirOf isNull removeAttrs __add __curPos ];",
        "a = let b = c; c = 1; in b;",
        "a = rec { b = 1; c = b; };",
        "a = let { b = 1; body = b; };",
        "a = { b, c ? b, ... }@d: [ b c d ];",
        "a = x: y: x y;",
        "a = let inherit (lib) mkIf; in mkIf;",
        "a = rec { b = lib; inherit (b) mkIf; c = mkIf; };",
        "inherit lib;\ninherit (pkgs) hello;",
        "a = with lib; mkIf anything { };",
        "a = with pkgs; [ git vim ];",
        "a = with lib; { b = c; inherit d; };",
        "${lib.x} = 1;",
    ],
)
def test_names_bound_around_them_are_accepted(text: str) -> None:
    assert check_module_body(text) == ("bindings", [])


def test_a_whole_module_sees_only_its_own_arguments() -> None:
    assert check_module_body("{ pkgs, ... }: { a = pkgs.git; }") == ("module", [])
    assert check_module_body("{ modulesPath, inputs, options, ... }: { }") == ("module", [])
    kind, errors = check_module_body("{ config, ... }:\n{\n  a = pkgs.git;\n}")
    assert kind == "module"
    assert errors == [
        NixSyntaxError(
            3,
            7,
            "undefined variable `pkgs`",
            "add pkgs to the module's arguments: `{ pkgs, ... }: { … }`",
        )
    ]
    _, errors = check_module_body("{ a = lib.mkIf true 1; }")
    assert [e.message for e in errors] == ["undefined variable `lib`"]


# ---- what Nix reads but homelab cannot write back -----------------------------------------


@pytest.mark.parametrize(
    ("text", "words", "hint"),
    [
        ("a = { b, c, }: b;", "a `,` with no argument after it", "remove the `,`"),
        ("{ b, }: { }", "a `,` with no argument after it", "remove the `,`"),
        ("inherit;", "`inherit` names nothing", "inherit (pkgs) hello;"),
        ("a = ~/${lib.x};", "cannot check a path that starts with `~/${`", "~/.config/"),
    ],
)
def test_text_homelab_cannot_write_is_refused_with_a_fix(text: str, words: str, hint: str) -> None:
    _, errors = check_module_body(text)
    assert words in errors[0].message
    assert hint in errors[0].hint


# ---- texts built to be slow --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "(" * 20_000 + "x" + ")" * 20_000 + ";",
        "a = " + "let b = 1; in " * 5_000 + "c;",
        "a = " + "{ a = " * 5_000 + "1" + "; }" * 5_000 + ";",
        "a = " + "x: " * 5_000 + "y;",
    ],
    ids=["parentheses", "lets", "sets", "functions"],
)
def test_a_text_nested_thousands_deep_is_refused_at_once(text: str) -> None:
    started = time.monotonic()
    _, errors = check_module_body(text)
    assert time.monotonic() - started < 5  # (minutes, or a RecursionError, before)
    assert [e.message for e in errors] == ["this nests more than 300 levels deep"]
    assert "flatten it" in errors[0].hint


def test_thousands_of_unbound_names_are_counted_after_the_first_fifty() -> None:
    text = "".join(f"a{i} = x{i};\n" for i in range(5_000))
    started = time.monotonic()
    _, errors = check_module_body(text)
    assert time.monotonic() - started < 5
    assert len(errors) == 51
    assert errors[49] == NixSyntaxError(50, 7, "undefined variable `x49`", errors[49].hint)
    assert errors[50].message == "and 4950 more names that nothing binds"
    assert (errors[50].line, errors[50].column) == (51, 7)


def test_columns_on_a_long_line_count_characters() -> None:
    text = 'a = [ "é" ' + '"ü" ' * 20_000 + "x ];"
    _, errors = check_module_body(text)
    assert errors[0].message == "undefined variable `x`"
    assert errors[0].column == len(text) - len("x ];") + 1
