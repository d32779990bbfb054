# nixos/modules/services/web-apps/nextcloud.nix, nixpkgs 434018d6f6dbf3a8c8bc9a680ae623df4fb454e6
{ lib, pkgs, config, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  json = pkgs.formats.json { };
in
{
  options.services.nextcloud = {
    enable = mkEnableOption "nextcloud";
    hostName = mkOption { type = types.str; };
    home = mkOption { type = types.str; default = "/var/lib/nextcloud"; };
    datadir = mkOption { type = types.str; default = config.services.nextcloud.home; };
    extraApps = mkOption { type = types.attrsOf types.package; default = { }; };
    extraAppsEnable = mkOption { type = types.bool; default = true; };
    appstoreEnable = mkOption { type = types.nullOr types.bool; default = null; };
    https = mkOption { type = types.bool; default = false; };
    package = mkOption { type = types.package; };
    maxUploadSize = mkOption { type = types.str; default = "512M"; };
    database.createLocally = mkOption { type = types.bool; default = false; };
    config = {
      dbtype = mkOption { type = types.nullOr (types.enum [ "sqlite" "pgsql" "mysql" ]); default = null; };
      dbname = mkOption { type = types.nullOr types.str; default = "nextcloud"; };
      dbuser = mkOption { type = types.nullOr types.str; default = "nextcloud"; };
      dbpassFile = mkOption { type = types.nullOr types.str; default = null; };
      dbhost = mkOption { type = types.nullOr types.str; default = "localhost"; };
      adminuser = mkOption { type = types.nullOr types.str; default = "root"; };
      # no default: the module requires it (or adminuser = null on Nextcloud 32 and later)
      adminpassFile = mkOption { type = types.nullOr types.str; };
    };
    settings = mkOption {
      type = types.submodule {
        freeformType = json.type;
        options = {
          loglevel = mkOption { type = types.ints.between 0 4; default = 2; };
          log_type = mkOption { type = types.enum [ "errorlog" "file" "syslog" "systemd" ]; default = "syslog"; };
          skeletondirectory = mkOption { type = types.str; default = ""; };
          trusted_domains = mkOption { type = types.listOf types.str; default = [ ]; };
          trusted_proxies = mkOption { type = types.listOf types.str; default = [ ]; };
          overwriteprotocol = mkOption { type = types.enum [ "" "http" "https" ]; default = ""; };
          default_phone_region = mkOption { type = types.str; default = ""; };
          "profile.enabled" = mkEnableOption "global profiles";
          mail_smtpmode = mkOption { type = types.enum [ "sendmail" "smtp" "qmail" "null" ]; default = "smtp"; };
          mail_smtpport = mkOption { type = types.port; default = 25; };
        };
      };
      default = { };
    };
    secretFile = mkOption { type = types.nullOr types.str; default = null; };
    secrets = mkOption {
      type = types.attrsOf (types.pathWith { inStore = false; absolute = true; });
      default = { };
    };
    configureRedis = mkOption { type = types.bool; default = true; };
  };
}
