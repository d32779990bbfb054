# nixos/modules/services/security/fail2ban.nix, nixpkgs a2ff8c71b155be2e4662ded9cd92f08d0c848598
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  settingsFormat = pkgs.formats.keyValue { };
  configFormat = pkgs.formats.ini { };
in
{
  options.services.fail2ban = {
    enable = mkOption { type = types.bool; default = false; };
    bantime = mkOption { type = types.str; default = "10m"; };
    maxretry = mkOption { type = types.ints.unsigned; default = 3; };
    bantime-increment.enable = mkOption { type = types.bool; default = false; };
    ignoreIP = mkOption { type = types.listOf types.str; default = [ ]; };
    jails = mkOption {
      default = { };
      type = types.attrsOf (types.either types.lines (types.submodule ({ name, ... }: {
        options = {
          enabled = mkEnableOption "this jail." // { default = true; readOnly = name == "DEFAULT"; };
          filter = mkOption { type = types.nullOr (types.either types.str configFormat.type); default = null; };
          settings = mkOption { inherit (settingsFormat) type; default = { }; };
        };
      })));
    };
  };
}
