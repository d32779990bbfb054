# nixos/modules/services/networking/mosquitto.nix, nixpkgs 0101675dad73660b4f037da356ccc5b00217b512
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  opt = type: default: mkOption { inherit type default; };
  # mosquitto.conf has no escaping: single-line strings and paths only
  str = types.strMatching "[^\r\n]*" // { description = "single-line string"; };
  path = types.addCheck types.path (p: str.check "${p}");
  optionType = types.oneOf [ str path types.bool types.int ];
  user = types.submodule {
    options = {
      password = opt (types.uniq (types.nullOr str)) null;
      passwordFile = opt (types.uniq (types.nullOr path)) null;
      hashedPassword = opt (types.uniq (types.nullOr str)) null;
      hashedPasswordFile = opt (types.uniq (types.nullOr path)) null;
      acl = opt (types.listOf str) [ ];
    };
  };
  authPlugin = types.submodule {
    options = {
      plugin = mkOption { type = path; };
      denySpecialChars = opt types.bool true;
      options = opt (types.attrsOf optionType) { };
    };
  };
  listener = types.submodule {
    options = {
      port = opt types.port 1883;
      address = opt (types.nullOr str) null;
      authPlugins = opt (types.listOf authPlugin) [ ];
      users = opt (types.attrsOf user) { };
      omitPasswordAuth = opt types.bool false;
      acl = opt (types.listOf str) [ ];
      settings = opt (types.submodule { freeformType = types.attrsOf optionType; }) { };
    };
  };
in
{
  options.services.mosquitto = {
    enable = mkEnableOption "the MQTT Mosquitto broker";
    listeners = opt (types.listOf listener) [ ];
    persistence = opt types.bool true;
    dataDir = opt types.path "/var/lib/mosquitto";
    settings = opt (types.submodule { freeformType = types.attrsOf optionType; }) { };
  };
}
