# nixos/modules/services/networking/unbound.nix, as of the release with lib.boolToYesNo (the
# settings-based module; nixpkgs 23c50219465831d2b2029b5f37115ea895393fb8 holds the older one)
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  primitive = types.oneOf [ types.int types.str types.bool types.float ];
  value = types.oneOf [ primitive (types.listOf primitive) ];
  section = types.oneOf [ types.str (types.attrsOf value) ];
in
{
  options.services.unbound = {
    enable = mkEnableOption "Unbound domain name server";
    resolveLocalQueries = mkOption { type = types.bool; default = true; };
    enableRootTrustAnchor = mkOption { type = types.bool; default = true; };
    stateDir = mkOption { type = types.path; default = "/var/lib/unbound"; };
    settings = mkOption {
      type = types.submodule {
        freeformType = types.attrsOf (types.oneOf [ section (types.listOf section) ]);
        options.remote-control.control-enable = mkOption { type = types.bool; default = false; internal = true; };
      };
      default = { };
    };
  };
}
