# nixos/modules/services/web-apps/audiobookshelf.nix, nixpkgs 192de49628027dc59c20227dc4283ec0f7b2f848
{ lib, ... }:
let inherit (lib) mkOption mkEnableOption types; in
{
  options.services.audiobookshelf = {
    enable = mkEnableOption "Audiobookshelf, self-hosted audiobook and podcast server";
    dataDir = mkOption { type = types.str; default = "audiobookshelf"; };
    host = mkOption { type = types.str; default = "127.0.0.1"; };
    port = mkOption { type = types.port; default = 8000; };
    user = mkOption { type = types.str; default = "audiobookshelf"; };
    group = mkOption { type = types.str; default = "audiobookshelf"; };
    openFirewall = mkOption { type = types.bool; default = false; };
  };
}
