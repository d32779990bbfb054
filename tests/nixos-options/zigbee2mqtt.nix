# nixos/modules/services/home-automation/zigbee2mqtt.nix, nixpkgs 3a7af10224da66eaef427a98290dad3bbb2c7e2f
{ lib, pkgs, ... }:
let inherit (lib) mkOption mkEnableOption types; in
{
  options.services.zigbee2mqtt = {
    enable = mkEnableOption "zigbee2mqtt service";
    dataDir = mkOption { type = types.path; default = "/var/lib/zigbee2mqtt"; };
    settings = mkOption { type = (pkgs.formats.yaml { }).type; default = { }; };
  };
}
