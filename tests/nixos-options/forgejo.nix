# nixos/modules/services/misc/forgejo.nix, nixpkgs 011e8fecdd11df8cea8c6d1135858bd23da7147f
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  cfg = config.services.forgejo;
  format = pkgs.formats.ini { };
in
{
  options.services.forgejo = {
    enable = mkEnableOption "Forgejo, a software forge";
    stateDir = mkOption { type = types.str; default = "/var/lib/forgejo"; };
    database = {
      type = mkOption { type = types.enum [ "sqlite3" "mysql" "postgres" ]; default = "sqlite3"; };
      createDatabase = mkOption {
        type = types.bool;
        default = !(lib.versionAtLeast config.system.stateVersion "25.11");
      };
    };
    dump = {
      enable = mkEnableOption "periodic dumps via the built-in dump command";
      interval = mkOption { type = types.str; default = "04:31"; };
    };
    lfs.enable = mkOption { type = types.bool; default = false; };
    settings = mkOption {
      default = { };
      type = types.submodule {
        freeformType = format.type;
        options.server = {
          HTTP_PORT = mkOption { type = types.port; default = 3000; };
          DOMAIN = mkOption { type = types.str; default = "localhost"; };
          ROOT_URL = mkOption {
            type = types.str;
            default = "http://${cfg.settings.server.DOMAIN}:${toString cfg.settings.server.HTTP_PORT}/";
          };
          DISABLE_SSH = mkOption { type = types.bool; default = false; };
          SSH_PORT = mkOption { type = types.port; default = 22; };
        };
      };
    };
    secrets = mkOption {
      default = { };
      type = types.submodule { freeformType = types.attrsOf (types.attrsOf types.path); };
    };
  };
}
