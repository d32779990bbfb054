# nixos/modules/services/web-apps/immich.nix, nixpkgs b1325fd54d3a70772aae07dc3f39ec55e904dafa
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  json = pkgs.formats.json { };
  enabled = description: mkEnableOption description // { default = true; };
in
{
  options.services.immich = {
    enable = mkEnableOption "Immich";
    mediaLocation = mkOption { type = types.path; default = "/var/lib/immich"; };
    environment = mkOption {
      type = types.submodule { freeformType = types.attrsOf types.str; };
      default = { };
    };
    secretsFile = mkOption {
      # a string that looks like a path, never a path literal (the module's own check)
      type = types.nullOr (types.str // { check = it: lib.isString it && types.path.check it; });
      default = null;
    };
    host = mkOption { type = types.str; default = "localhost"; };
    port = mkOption { type = types.port; default = 2283; };
    openFirewall = mkOption { type = types.bool; default = false; };
    user = mkOption { type = types.str; default = "immich"; };
    group = mkOption { type = types.str; default = "immich"; };
    settings = mkOption {
      type = types.nullOr (types.submodule {
        freeformType = json.type;
        options = {
          newVersionCheck.enabled = mkOption { type = types.bool; default = false; };
          server.externalDomain = mkOption { type = types.str; default = ""; };
        };
      });
      default = null;
    };
    machine-learning.enable = enabled "immich's machine-learning functionality";
    accelerationDevices = mkOption { type = types.nullOr (types.listOf types.str); default = [ ]; };
    database = {
      enable = enabled "the postgresql database for use with immich";
      createDB = enabled "the automatic creation of the database for immich.";
      name = mkOption { type = types.str; default = "immich"; };
      host = mkOption { type = types.str; default = "/run/postgresql"; };
      port = mkOption { type = types.port; default = 5432; };
      user = mkOption { type = types.str; default = "immich"; };
    };
  };
}
