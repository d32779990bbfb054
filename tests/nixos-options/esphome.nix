# nixos/modules/services/home-automation/esphome.nix, nixpkgs 8c546dadd3d3da5960e23bb86d445ed24fbb05de
{ lib, pkgs, ... }:
let inherit (lib) mkOption mkEnableOption types; in
{
  options.services.esphome = {
    enable = mkEnableOption "esphome, for making custom firmwares for ESP32/ESP8266";
    enableUnixSocket = mkOption { type = types.bool; default = false; };
    address = mkOption { type = types.str; default = "localhost"; };
    port = mkOption { type = types.port; default = 6052; };
    openFirewall = mkOption { type = types.bool; default = false; };
    allowedDevices = mkOption { type = types.listOf types.str; default = [ "char-ttyS" "char-ttyUSB" ]; };
    usePing = mkOption { type = types.bool; default = false; };
  };
}
