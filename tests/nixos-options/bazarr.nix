# nixos/modules/services/misc/bazarr.nix, nixpkgs 0148e16d1446003704803ecabb5a00cfea7d8568
{ lib, ... }:
let inherit (lib) mkOption mkEnableOption types; in
{
  options.services.bazarr = {
    enable = mkEnableOption "bazarr, a subtitle manager for Sonarr and Radarr";
    dataDir = mkOption { type = types.str; default = "/var/lib/bazarr"; };
    openFirewall = mkOption { type = types.bool; default = false; };
    listenPort = mkOption { type = types.port; default = 6767; };
    user = mkOption { type = types.str; default = "bazarr"; };
    group = mkOption { type = types.str; default = "bazarr"; };
  };
}
