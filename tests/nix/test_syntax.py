"""Checking extraConfig and raw expressions with tree-sitter-nix, and against the real Nix."""

from __future__ import annotations

import pytest

from homelab.nix.syntax import NixSyntaxError, check_expression, check_module_body
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
