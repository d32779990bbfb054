# nixos/modules/services/misc/paperless.nix, nixpkgs 013635633ffe11f70df1d639f563f21c42c1f778
{ lib, config, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.services.paperless;
  scalar = types.oneOf [ types.bool types.float types.int types.str types.path types.package ];
in
{
  options.services.paperless = {
    enable = mkOption { type = types.bool; default = false; };
    dataDir = mkOption { type = types.str; default = "/var/lib/paperless"; };
    mediaDir = mkOption { type = types.str; default = "${cfg.dataDir}/media"; };
    consumptionDir = mkOption { type = types.str; default = "${cfg.dataDir}/consume"; };
    consumptionDirIsPublic = mkOption { type = types.bool; default = false; };
    passwordFile = mkOption { type = types.nullOr types.path; default = null; };
    address = mkOption { type = types.str; default = "localhost"; };
    port = mkOption { type = types.port; default = 28981; };
    settings = mkOption {
      type = types.submodule {
        freeformType = types.attrsOf (types.oneOf [ scalar (types.listOf scalar) (types.attrsOf scalar) ]);
      };
      default = { };
    };
    user = mkOption { type = types.str; default = "paperless"; };
    environmentFile = mkOption { type = types.nullOr types.path; default = null; };
    database.createLocally = mkOption { type = types.bool; default = false; };
  };
}
