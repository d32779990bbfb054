# nixos/modules/services/monitoring/loki.nix, nixpkgs 93558b5732b447c02c2aa4c97eb180db26a70e19
{ lib, pkgs, ... }:
let inherit (lib) mkOption mkEnableOption types; in
{
  options.services.loki = {
    enable = mkEnableOption "loki";
    dataDir = mkOption { type = types.path; default = "/var/lib/loki"; };
    configuration = mkOption { type = (pkgs.formats.json { }).type; default = { }; };
  };
}
