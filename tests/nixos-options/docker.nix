# nixos/modules/virtualisation/docker.nix, nixpkgs 4aa6836a648ca76c68866decf0c8965e36ec2a3b:
# the option the docker entry sets that tests/nixos-options.nix does not declare (enable
# and autoPrune are there).
{ lib, ... }:
let inherit (lib) mkOption types; in
{
  options.virtualisation.docker.storageDriver = mkOption {
    type = types.nullOr (types.enum [ "aufs" "btrfs" "devicemapper" "overlay" "overlay2" "zfs" ]);
    default = null;
  };
}
