# nixos/modules/services/misc/homepage-dashboard.nix as of the revision with allowedHosts and
# environmentFiles (it replaced environmentFile of nixpkgs 07a0da74d66f47d65d01f1ff336a3508c7abf518)
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  settingsFormat = pkgs.formats.yaml { };
in
{
  options.services.homepage-dashboard = {
    enable = mkEnableOption "Homepage Dashboard, a highly customizable application dashboard";
    allowedHosts = mkOption { type = types.str; default = "localhost:8082,127.0.0.1:8082"; };
    bookmarks = mkOption { inherit (settingsFormat) type; default = [ ]; };
    environmentFiles = mkOption { type = types.listOf types.path; default = [ ]; };
    listenPort = mkOption { type = types.port; default = 8082; };
    openFirewall = mkOption { type = types.bool; default = false; };
    services = mkOption { inherit (settingsFormat) type; default = [ ]; };
    settings = mkOption { inherit (settingsFormat) type; default = { }; };
    widgets = mkOption { inherit (settingsFormat) type; default = [ ]; };
  };
}
