"""The option index made for real: homelab/optionindex/index.nix (the expression
`homelab options update` runs) over home-manager's real modules and over a small
NixOS-like module tree, with the real lib.evalModules and nix-instantiate."""

from __future__ import annotations

from homelab.optionindex import model as m
from homelab.optionindex.read import option_type, read_index, show_option_path
from homelab.optionindex.store import dumps, loads
from tests.optionindex import home_manager_index, home_manager_raw, nixos_index

# ---- home-manager's real options ------------------------------------------------------


def test_the_home_manager_index_holds_every_option_of_the_snapshot() -> None:
    index = home_manager_index()
    print(f"home-manager index: {len(index.home)} options, NixOS side {len(index.nixos)}")
    # home-manager ec1a8fdf: thousands of options (6,032 when this was written)
    assert 5000 < len(index.home) < 20000
    assert not any(o.path[0] == "_module" for o in index.home)
    assert not any(o.path[0] == m.NAME for o in index.home)  # the user's <name> is left out


def test_known_home_manager_options_have_their_kinds() -> None:
    home = home_manager_index().home

    git = home.get(["programs", "git", "enable"])
    assert git is not None and git.type.kind == m.BOOL
    assert git.default == "false" and git.description == "Whether to enable Git."
    assert git.declared_in == ("modules/programs/git.nix",)

    state = home.get(["home", "stateVersion"])
    assert state is not None and state.type.kind == m.ENUM
    assert {"24.05", "25.11"} <= set(state.type.values)

    port = home.get(["services", "mpd", "network", "port"])
    assert port is not None and port.type.kind == m.INT
    assert (port.type.name, port.type.low, port.type.high) == ("unsignedInt16", 0, 65535)

    packages = home.get(["home", "packages"])
    assert packages is not None and packages.type.kind == m.LIST
    assert packages.type.of[0].kind == m.UNCHECKED  # package: not checked

    files = home.get(["home", "file"])
    assert files is not None and files.type.kind == m.ATTRS
    assert files.type.of[0].kind == m.SUBMODULE
    source = home.find(["home", "file", ".vimrc", "source"])
    assert source is not None and source.rest == ()
    assert source.option.path == ("home", "file", m.NAME, "source")
    assert source.option.type.kind == m.PATH

    address = home.get(["accounts", "email", "accounts", m.NAME, "address"])
    assert address is not None and address.type.kind == m.STR
    assert address.type.pattern == ".*@.*"

    volume = home.get(["programs", "pyradio", "stations", m.ITEM, "volume"])
    assert volume is not None and volume.type.kind == m.INT
    assert (volume.type.low, volume.type.high) == (0, 130)

    signing = home.get(["programs", "git", "signing", "format"])
    assert signing is not None and signing.type.kind == m.NULL_OR
    assert signing.type.of[0].kind == m.ENUM and "openpgp" in signing.type.of[0].values


def test_renamed_and_removed_home_manager_options() -> None:
    home = home_manager_index().home
    autojump = home.get(["programs", "bash", "enableAutojump"])
    assert autojump is not None
    assert autojump.renamed_to == ("programs", "autojump", "enable")
    # a rename inside a submodule names its new path from the submodule
    lieer = home.get(["accounts", "email", "accounts", m.NAME, "lieer", "ignoreTagsLocal"])
    assert lieer is not None
    assert lieer.renamed_to == ("accounts", "email", "accounts", m.NAME, "lieer", "settings",
                                "ignore_tags")  # fmt: skip
    setter = home.get(["home", "sessionVariableSetter"])
    assert setter is not None and setter.removed is not None
    assert setter.removed.startswith("Session variables are now always set through the shell")
    kime = home.get(["i18n", "inputMethod", "kime", "config"])
    assert (
        kime is not None
        and kime.removed == "Please use 'i18n.inputMethod.kime.extraConfig' instead."
    )
    removed = [o for o in home if o.removed is not None]
    print(f"{len(removed)} removed, {sum(o.renamed_to is not None for o in home)} renamed")
    assert len(removed) > 20


def test_the_index_survives_its_file() -> None:
    index = home_manager_index()
    blob = dumps(index)
    print(f"home-manager index on disk: {len(blob)} bytes")
    assert loads(blob) == index
    assert len(blob) < 2_000_000


def test_the_raw_output_is_the_expression_s_facts() -> None:
    raw = home_manager_raw()
    first = raw["home"][0]
    assert {"loc", "type", "declarations", "readOnly"} <= set(first)
    assert isinstance(raw["nixos"], list)


# ---- a NixOS-like module tree, with the real lib.evalModules ---------------------------

TREE = """\
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  imports = [
    (lib.mkRenamedOptionModule [ "services" "web" "port" ] [ "services" "web" "listen" "port" ])
    (lib.mkAliasOptionModule [ "web" ] [ "services" "web" ])
    (lib.mkRemovedOptionModule [ "services" "old" "enable" ] "old was dropped: use services.web.")
  ];
  options.services.web = {
    enable = lib.mkEnableOption "the web server";
    listen.port = mkOption { type = types.port; default = 80; };
    mode = mkOption { type = types.enum [ "fast" "safe" ]; default = "safe"; };
    level = mkOption { type = types.ints.between 1 9; default = 5; };
    name = mkOption { type = types.strMatching "[a-z]+"; default = "web"; };
    tags = mkOption { type = types.listOf types.str; default = [ ]; };
    either = mkOption { type = types.oneOf [ types.bool types.int types.str ]; default = 1; };
    broken = mkOption { type = types.str; default = throw "no default"; };
    hook = mkOption { type = types.functionTo types.str; default = _: ""; };
    readOnlyThing = mkOption { type = types.str; readOnly = true; default = "x"; };
    sites = mkOption {
      default = { };
      type = types.attrsOf (types.submodule {
        freeformType = types.attrsOf types.str;
        options.root = mkOption { type = types.path; };
        options.aliases = mkOption { type = types.listOf types.str; default = [ ]; };
      });
    };
    upstreams = mkOption {
      default = [ ];
      type = types.listOf (types.submodule {
        options.address = mkOption { type = types.str; example = "10.0.0.1"; };
      });
    };
  };
}
"""


def test_a_nixos_like_module_tree_is_indexed() -> None:
    index = nixos_index(TREE)
    nixos = index.nixos
    print(f"test tree: {len(nixos)} options")

    def get(path: str) -> m.Option:
        found = nixos.get(path.split("."))
        assert found is not None, path
        return found

    assert get("services.web.enable").type.kind == m.BOOL
    port = get("services.web.listen.port")
    assert (port.type.kind, port.type.low, port.type.high, port.default) == (m.INT, 0, 65535, "80")
    assert get("services.web.mode").type.values == ("fast", "safe")
    assert get("services.web.mode").default == '"safe"'
    level = get("services.web.level")
    assert (level.type.kind, level.type.low, level.type.high) == (m.INT, 1, 9)
    assert get("services.web.name").type.pattern == "[a-z]+"
    assert get("services.web.tags").type.of[0].kind == m.STR
    assert [t.kind for t in get("services.web.either").type.of] == [m.BOOL, m.INT, m.STR]
    assert get("services.web.broken").default is None  # a default that throws is not shown
    assert get("services.web.hook").type.kind == m.UNCHECKED
    assert get("services.web.readOnlyThing").read_only

    sites = get("services.web.sites")
    assert sites.type.kind == m.ATTRS and sites.type.of[0].freeform
    assert get("services.web.sites.<name>.root").type.kind == m.PATH
    found = nixos.find(["services", "web", "sites", "example.org", "aliases"])
    assert found is not None and found.option.name == "services.web.sites.<name>.aliases"
    assert get("services.web.upstreams.*.address").example == '"10.0.0.1"'
    assert get("services.web.upstreams.*.address").declared_in == ("module.nix",)

    assert get("services.web.port").renamed_to == ("services", "web", "listen", "port")
    assert get("web").renamed_to == ("services", "web")
    removed = get("services.old.enable")
    assert removed.removed == "old was dropped: use services.web."
    assert removed.renamed_to is None
    assert not any(o.path[0] == "_module" for o in nixos)


# ---- reading lib's facts --------------------------------------------------------------


def test_lib_type_names_become_kinds() -> None:
    def kind(data: dict[str, object]) -> m.OptionType:
        return option_type(data)

    assert kind({"name": "signedInt8", "description": "8 bit signed integer; between -128 "
                 "and 127 (both inclusive)"}).low == -128  # fmt: skip
    assert kind({"name": "positiveInt"}).low == 1
    assert kind({"name": "separatedString"}).kind == m.STR
    assert kind({"name": "lazyAttrsOf", "nested": {"elemType": {"name": "int"}}}).of[0].kind == (
        m.INT
    )
    assert kind({"name": "raw"}).kind == m.ANYTHING
    assert kind({"name": "package"}).kind == m.UNCHECKED
    assert kind({"name": "dagOf"}).kind == m.UNCHECKED
    coerced = kind({"name": "coercedTo", "nested": {"coercedType": {"name": "str"},
                                                  "finalType": {"name": "bool"}}})  # fmt: skip
    assert [t.kind for t in coerced.of] == [m.STR, m.BOOL]
    assert show_option_path('a."b.c".<name>') == ("a", "b.c", "<name>")


def test_what_is_not_index_nix_s_output_is_refused() -> None:
    import pytest

    from homelab.optionindex.store import IndexUnreadable

    for bad in (None, [], {"nixos": 3}, {"nixos": [{"no": "loc"}]}):
        with pytest.raises(IndexUnreadable):
            read_index(bad, nixpkgs="a", home_manager="b")
