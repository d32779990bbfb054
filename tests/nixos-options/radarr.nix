# nixos/modules/services/misc/servarr/radarr.nix, nixpkgs 0a74e020a192e6e91f0011243f747da537be3036
# (that copy also has database.createLocally, added after 26.05, which the entry does not set)
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  servarr = import ./servarr/settings-options.nix { inherit lib pkgs; };
in
{
  options.services.radarr = {
    enable = mkEnableOption "Radarr, a UsetNet/BitTorrent movie downloader";
    dataDir = mkOption { type = types.str; default = "/var/lib/radarr/.config/Radarr"; };
    openFirewall = mkOption { type = types.bool; default = false; };
    settings = servarr.settings 7878;
    environmentFiles = servarr.environmentFiles;
    user = mkOption { type = types.str; default = "radarr"; };
    group = mkOption { type = types.str; default = "radarr"; };
  };
}
