# index.nix over one host of the lab's flake: nixosConfigurations.<host>'s options (NixOS's,
# and every module the host imports, `modules:` of its profile), and home-manager's
# per-user options when the host imports home-manager's NixOS module.
{ lab, host }:
let
  flake = builtins.getFlake lab;
  system = flake.nixosConfigurations.${host};
  lib = flake.inputs.nixpkgs.lib or system.pkgs.lib;
  usersOption = system.options.home-manager.users or null;
  hasHome = usersOption != null && lib.isOption usersOption;
  # one user's configuration: the reasons of removed home-manager options are in its
  # assertions
  people = if hasHome then builtins.attrNames system.config.home-manager.users else [ ];
in
import ./index.nix {
  inherit lib;
  inherit (system) options config;
  home = if hasHome then usersOption.type.getSubOptions [ ] else null;
  homeConfig =
    if people == [ ] then { } else system.config.home-manager.users.${builtins.head people};
  # each user's options, with those of the modules the user imports (home.modules)
  users = builtins.filter (o: o != null) (map
    (p: usersOption.valueMeta.attrs.${p}.configuration.options or null)
    people);
}
