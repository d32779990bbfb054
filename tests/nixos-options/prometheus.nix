# nixos/modules/services/monitoring/prometheus/default.nix, nixpkgs (fork faukah/nixpkgs)
# 3b20077cd82fd1f099e92e2792d73e3176d4869d; NixOS/nixpkgs' stored copy (80f38e90) is from 2016.
# A scrape config here holds the keys of the module's scrape_config that home labs use (its
# *_sd_configs and the like are left out); every key is optional (null) as in the module.
{ lib, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  mkOpt = type: mkOption { type = types.nullOr type; default = null; };
  basicAuth = types.submodule {
    options = {
      username = mkOption { type = types.str; };
      password = mkOpt types.str;
      password_file = mkOpt types.str;
    };
  };
  staticConfig = types.submodule {
    options = {
      targets = mkOption { type = types.listOf types.str; };
      labels = mkOpt (types.attrsOf types.str);
    };
  };
  scrapeConfig = types.submodule {
    options = {
      job_name = mkOption { type = types.str; };
      scrape_interval = mkOpt types.str;
      scrape_timeout = mkOpt types.str;
      metrics_path = mkOpt types.str;
      honor_labels = mkOpt types.bool;
      scheme = mkOpt (types.enum [ "http" "https" ]);
      params = mkOpt (types.attrsOf (types.listOf types.str));
      basic_auth = mkOpt basicAuth;
      bearer_token_file = mkOpt types.str;
      static_configs = mkOpt (types.listOf staticConfig);
    };
  };
in
{
  options.services.prometheus = {
    enable = mkEnableOption "Prometheus monitoring daemon";
    port = mkOption { type = types.port; default = 9090; };
    listenAddress = mkOption { type = types.str; default = "0.0.0.0"; };
    globalConfig = mkOption {
      type = types.submodule {
        options = {
          scrape_interval = mkOpt types.str;
          scrape_timeout = mkOpt types.str;
          evaluation_interval = mkOpt types.str;
          external_labels = mkOpt (types.attrsOf types.str);
          query_log_file = mkOpt types.str;
        };
      };
      default = { };
    };
    scrapeConfigs = mkOption { type = types.listOf scrapeConfig; default = [ ]; };
    webExternalUrl = mkOption { type = types.nullOr types.str; default = null; };
    retentionTime = mkOption { type = types.nullOr types.str; default = null; };
  };
}
