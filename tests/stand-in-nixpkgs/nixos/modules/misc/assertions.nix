# Stand-in for nixpkgs' nixos/modules/misc/assertions.nix (the same two options and types,
# read at nixpkgs 08062fcc), which home-manager imports through pkgs.path.
{ lib, ... }:
{
  options = {
    assertions = lib.mkOption {
      type = lib.types.listOf lib.types.unspecified;
      internal = true;
      default = [ ];
    };
    warnings = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      internal = true;
      default = [ ];
    };
  };
}
