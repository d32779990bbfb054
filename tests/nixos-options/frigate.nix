# nixos/modules/services/video/frigate.nix as of the revision with checkConfig and
# preCheckConfig (newer than nixpkgs 0c01466c95ef33aa7af6342da3cc4d408d5084cd, whose camera
# roles were detect, record and rtmp)
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  format = pkgs.formats.yaml { };
  cameraFormat = types.submodule {
    freeformType = format.type;
    options.ffmpeg.inputs = mkOption {
      type = types.listOf (types.submodule {
        freeformType = format.type;
        options = {
          path = mkOption { type = types.str; };
          roles = mkOption { type = types.listOf (types.enum [ "audio" "detect" "record" ]); };
        };
      });
    };
  };
in
{
  options.services.frigate = {
    enable = mkEnableOption "Frigate NVR";
    hostname = mkOption { type = types.str; };
    settings = mkOption {
      default = { };
      type = types.submodule {
        freeformType = format.type;
        options = {
          cameras = mkOption { type = types.attrsOf cameraFormat; };
          database.path = mkOption { type = types.path; default = "/var/lib/frigate/frigate.db"; };
          mqtt = {
            enabled = mkEnableOption "MQTT support";
            host = mkOption { type = types.nullOr types.str; default = null; };
          };
        };
      };
    };
    vaapiDriver = mkOption {
      type = types.nullOr (types.enum [ "i965" "iHD" "nouveau" "vdpau" "nvidia" "radeonsi" ]);
      default = null;
    };
  };
}
