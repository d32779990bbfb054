# nixos/modules/services/web-apps/mealie.nix, nixpkgs 1b8a4c60523a26abded2a32544b51a1ac9e7c15d
{ lib, ... }:
let inherit (lib) mkOption mkEnableOption types; in
{
  options.services.mealie = {
    enable = mkEnableOption "Mealie, a recipe manager and meal planner";
    listenAddress = mkOption { type = types.str; default = "0.0.0.0"; };
    port = mkOption { type = types.port; default = 9000; };
    settings = mkOption { type = types.attrsOf types.anything; default = { }; };
    credentialsFile = mkOption { type = types.nullOr types.path; default = null; };
    database.createLocally = mkOption { type = types.bool; default = false; };
  };
}
