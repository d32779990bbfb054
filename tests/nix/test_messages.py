# ruff: noqa: E501 (Nix prints these lines whole)
"""Reading Nix's evaluation errors (homelab.nix.messages).

The Nix 2.8 texts below were printed by the real nix-instantiate 2.8 evaluating modules
with nixpkgs' real lib (../shared/upstream, lib at de42d442); the failed assertions are
NixOS's own `throw` (nixos/modules/system/activation/top-level.nix) run by the same Nix.
The newer-Nix text follows the layout of Nix 2.20 and later as users report it (a trace,
outermost first, then the message after an indented `error:`); tests/origins/ captures
texts live from the real tools.
"""

from __future__ import annotations

from homelab.nix.messages import Spot, read_error

STORE = "/nix/store/m6pmx5b7j6crhq8h5d0aa9473hzds2nq-source"

TYPE_ERROR = f"""\
error: A definition for option `services.fwupd.enable' is not of type `boolean'. Definition values:
       - In `{STORE}/hosts/web/options.nix': "yes"
(use '--show-trace' to show detailed location information)
"""

NO_SUCH_OPTION = f"""\
error: The option `services.nosuch' does not exist. Definition values:
       - In `{STORE}/hosts/web/options.nix':
           {{
             enable = true;
           }}

       Did you mean `services.nfs', `services.fwupd' or `services.nginx'?
(use '--show-trace' to show detailed location information)
"""

AT_A_LINE = f"""\
error: list index 0 is out of bounds

       at {STORE}/hosts/web/options.nix:6:27:

            5| {{
            6|   services.fwupd.enable = builtins.head [];
             |                           ^
            7| }}
(use '--show-trace' to show detailed location information)
"""

ASSERTIONS = """\
error:
       Failed assertions:
       - The option definition `services.foo' in `/nix/store/x-source/hosts/web/options.nix' no longer has any effect
       - users.users.bob.isSystemUser and isNormalUser are mutually exclusive
"""

NEWER_NIX = f"""\
error:
       … while evaluating the attribute 'config.system.build.toplevel'
         at /nix/store/aiv01710wqn2b7hms2253d1cq89kdzh8-source/lib/modules.nix:359:9:
          358|         options = checked options;
          359|         config = checked (removeAttrs config [ "_module" ]);
             |         ^
          360|         _module = checked (config._module);

       … while evaluating definitions from `{STORE}/hosts/web/services.nix':

       … while evaluating the option `services.jellyfin.openFirewall':

       (stack trace truncated; use '--show-trace' to show the full, detailed trace)

       error: A definition for option `services.jellyfin.openFirewall' is not of type `boolean'. Definition values:
       - In `{STORE}/hosts/web/services.nix': "yes"
"""


def test_a_type_error_names_the_option_and_the_file() -> None:
    found = read_error(TYPE_ERROR)
    assert found is not None
    assert found.option == "services.fwupd.enable"
    assert (
        found.message == "A definition for option `services.fwupd.enable' is not of type `boolean'."
    )
    assert found.spots == (Spot(f"{STORE}/hosts/web/options.nix"),)
    assert found.assertions == ()


def test_an_option_that_does_not_exist() -> None:
    found = read_error(NO_SUCH_OPTION)
    assert found is not None
    assert found.option == "services.nosuch"  # not the did-you-mean names after it
    assert found.message == "The option `services.nosuch' does not exist."
    assert found.spots == (Spot(f"{STORE}/hosts/web/options.nix"),)


def test_an_error_at_a_line_and_column() -> None:
    found = read_error(AT_A_LINE)
    assert found is not None
    assert found.option is None
    assert found.message == "list index 0 is out of bounds"
    assert found.spots == (Spot(f"{STORE}/hosts/web/options.nix", 6, 27),)


def test_failed_assertions_one_by_one() -> None:
    found = read_error(ASSERTIONS)
    assert found is not None
    assert found.message == "Failed assertions:"
    assert found.assertions == (
        "The option definition `services.foo' in `/nix/store/x-source/hosts/web/options.nix'"
        " no longer has any effect",
        "users.users.bob.isSystemUser and isNormalUser are mutually exclusive",
    )


def test_newer_nix_the_inner_error_and_its_spots_first() -> None:
    found = read_error(NEWER_NIX)
    assert found is not None
    assert found.option == "services.jellyfin.openFirewall"
    assert found.message.startswith("A definition for option `services.jellyfin.openFirewall'")
    services = Spot(f"{STORE}/hosts/web/services.nix")
    assert found.spots[0] == services  # the error's own place, then the trace's
    assert found.spots.count(services) == 1
    assert Spot("/nix/store/aiv01710wqn2b7hms2253d1cq89kdzh8-source/lib/modules.nix", 359, 9) in (
        found.spots
    )


def test_text_without_an_error() -> None:
    assert read_error("building the system configuration...\nall good\n") is None
    assert read_error("") is None


def test_an_error_that_names_no_option_and_no_file() -> None:
    found = read_error("error: unexpected end of file\n")
    assert found is not None
    assert (found.message, found.option, found.spots) == ("unexpected end of file", None, ())
