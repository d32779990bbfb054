# nixos/modules/services/misc/servarr/prowlarr.nix, nixpkgs 0a74e020a192e6e91f0011243f747da537be3036
# (that copy also has database.createLocally, added after 26.05, which the entry does not set)
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  servarr = import ./servarr/settings-options.nix { inherit lib pkgs; };
in
{
  options.services.prowlarr = {
    enable = mkEnableOption "Prowlarr, an indexer manager/proxy for Torrent trackers and Usenet indexers";
    dataDir = mkOption { type = types.str; default = "/var/lib/prowlarr"; };
    openFirewall = mkOption { type = types.bool; default = false; };
    settings = servarr.settings 9696;
    environmentFiles = servarr.environmentFiles;
  };
}
