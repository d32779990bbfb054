# nixos/modules/services/misc/seerr.nix (the jellyseerr entry), nixpkgs
# 25aa055faf49fb84891be81e5e4d78b2b49f99c8
{ lib, ... }:
let inherit (lib) mkOption mkEnableOption types; in
{
  options.services.seerr = {
    enable = mkEnableOption "Seerr, a requests manager for Jellyfin";
    openFirewall = mkOption { type = types.bool; default = false; };
    port = mkOption { type = types.port; default = 5055; };
  };
}
