# nixos/modules/services/misc/servarr/sonarr.nix, nixpkgs 1158234bdec398ed3ffd5e1ac8873afd85ca3902
# (that copy also has database.createLocally, added after 26.05, which the entry does not set)
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  servarr = import ./servarr/settings-options.nix { inherit lib pkgs; };
in
{
  options.services.sonarr = {
    enable = mkEnableOption "Sonarr";
    dataDir = mkOption { type = types.str; default = "/var/lib/sonarr/.config/NzbDrone"; };
    openFirewall = mkOption { type = types.bool; default = false; };
    environmentFiles = servarr.environmentFiles;
    settings = servarr.settings 8989;
    user = mkOption { type = types.str; default = "sonarr"; };
    group = mkOption { type = types.str; default = "sonarr"; };
  };
}
