# nixos/modules/services/games/minecraft-server.nix, nixpkgs 0628f2459067e3d3d788294260395b88ed74e43b
{ lib, ... }:
let inherit (lib) mkOption types; in
{
  options.services.minecraft-server = {
    enable = mkOption { type = types.bool; default = false; };
    declarative = mkOption { type = types.bool; default = false; };
    eula = mkOption { type = types.bool; default = false; };
    dataDir = mkOption { type = types.path; default = "/var/lib/minecraft"; };
    openFirewall = mkOption { type = types.bool; default = false; };
    whitelist = mkOption {
      type = types.attrsOf (types.strMatching "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
      default = { };
    };
    serverProperties = mkOption {
      type = types.attrsOf (types.oneOf [ types.bool types.int types.str ]);
      default = { };
    };
    jvmOpts = mkOption { type = types.separatedString " "; default = "-Xmx2048M -Xms2048M"; };
  };
}
