# nixos/modules/services/monitoring/grafana.nix, a revision after lib.mdDoc was dropped (with
# provision.alerting and without provision.notifiers): provision.*; enable, openFirewall and
# settings are in tests/nixos-options.nix
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  provisioningSettingsFormat = pkgs.formats.yaml { };
  datasourceConfig = types.submodule {
    freeformType = provisioningSettingsFormat.type;
    options = {
      access = mkOption { type = types.enum [ "proxy" "direct" ]; default = "proxy"; };
      editable = mkOption { type = types.bool; default = false; };
      jsonData = mkOption { type = types.nullOr types.attrs; default = null; };
      name = mkOption { type = types.str; };
      secureJsonData = mkOption { type = types.nullOr types.attrs; default = null; };
      type = mkOption { type = types.str; };
      uid = mkOption { type = types.nullOr types.str; default = null; };
      url = mkOption { type = types.str; default = ""; };
    };
  };
  dashboardConfig = types.submodule {
    freeformType = provisioningSettingsFormat.type;
    options = {
      options.path = mkOption { type = types.path; };
      name = mkOption { type = types.str; default = "default"; };
      type = mkOption { type = types.str; default = "file"; };
    };
  };
in
{
  options.services.grafana.provision = {
    enable = mkEnableOption "provision";
    dashboards = mkOption {
      default = { };
      type = types.submodule {
        options.path = mkOption { type = types.nullOr types.path; default = null; };
        options.settings = mkOption {
          default = null;
          type = types.nullOr (types.submodule {
            options.apiVersion = mkOption { type = types.int; default = 1; };
            options.providers = mkOption { type = types.listOf dashboardConfig; default = [ ]; };
          });
        };
      };
    };
    datasources = mkOption {
      default = { };
      type = types.submodule {
        options.path = mkOption { type = types.nullOr types.path; default = null; };
        options.settings = mkOption {
          default = null;
          type = types.nullOr (types.submodule {
            options = {
              apiVersion = mkOption { type = types.int; default = 1; };
              datasources = mkOption { type = types.listOf datasourceConfig; default = [ ]; };
              deleteDatasources = mkOption {
                type = types.listOf (types.submodule {
                  options.name = mkOption { type = types.str; };
                  options.orgId = mkOption { type = types.int; };
                });
                default = [ ];
              };
              prune = mkOption { type = types.bool; default = false; };
            };
          });
        };
      };
    };
  };
}
