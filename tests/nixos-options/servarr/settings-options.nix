# nixos/modules/services/misc/servarr/settings-options.nix (the version beside sonarr.nix at
# nixpkgs 1158234bdec398ed3ffd5e1ac8873afd85ca3902): the options sonarr, radarr and prowlarr
# share. Not a module itself (this folder is not imported): sonarr.nix, radarr.nix and
# prowlarr.nix of tests/nixos-options import it.
{ lib, pkgs }:
let
  inherit (lib) mkOption types;
in
{
  # mkServarrSettingsOptions: an ini-shaped freeform set, turned into NAME__SECTION__KEY
  # environment variables, with these typed keys
  settings = port: mkOption {
    type = types.submodule {
      freeformType = (pkgs.formats.ini { }).type;
      options = {
        update = {
          mechanism = mkOption {
            type = types.nullOr (types.enum [ "external" "builtIn" "script" ]);
            default = "external";
          };
          automatically = mkOption { type = types.bool; default = false; };
        };
        server.port = mkOption { type = types.port; default = port; };
        log.analyticsEnabled = mkOption { type = types.bool; default = false; };
      };
    };
    default = { };
  };

  # mkServarrEnvironmentFiles
  environmentFiles = mkOption { type = types.listOf types.path; default = [ ]; };
}
