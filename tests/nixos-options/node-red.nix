# nixos/modules/services/web-apps/node-red.nix, nixpkgs 044b684b71e9ae48b17a6ca53567362dacce6c9a
{ lib, ... }:
let inherit (lib) mkOption mkEnableOption types; in
{
  options.services.node-red = {
    enable = mkEnableOption "the Node-RED service";
    openFirewall = mkOption { type = types.bool; default = false; };
    withNpmAndGcc = mkOption { type = types.bool; default = false; };
    port = mkOption { type = types.port; default = 1880; };
    userDir = mkOption { type = types.path; default = "/var/lib/node-red"; };
    safe = mkOption { type = types.bool; default = false; };
    define = mkOption { type = types.attrs; default = { }; };
  };
}
