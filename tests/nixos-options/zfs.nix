# nixos/modules/tasks/filesystems/zfs.nix, nixpkgs 4aa6836a648ca76c68866decf0c8965e36ec2a3b:
# the options the zfs entry sets (boot.supportedFilesystems and networking.hostId are
# declared in tests/nixos-options.nix).
{ lib, ... }:
let
  inherit (lib) mkOption types;
  int = default: mkOption { type = types.int; inherit default; };
  str = default: mkOption { type = types.str; inherit default; };
  bool = default: mkOption { type = types.bool; inherit default; };
in
{
  options.boot.zfs.extraPools = mkOption { type = types.listOf types.str; default = [ ]; };
  options.services.zfs = {
    autoScrub = {
      enable = bool false;
      interval = str "monthly";
      pools = mkOption { type = types.listOf types.str; default = [ ]; };
      randomizedDelaySec = str "6h";
    };
    autoSnapshot = {
      enable = bool false;
      flags = str "-k -p";
      frequent = int 4;
      hourly = int 24;
      daily = int 7;
      weekly = int 4;
      monthly = int 12;
    };
    trim = {
      enable = bool true;
      interval = str "weekly";
      randomizedDelaySec = str "6h";
    };
  };
}
