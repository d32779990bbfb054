# nixos/modules/services/network-filesystems/nfsd.nix and tasks/filesystems/nfs.nix,
# nixpkgs 4aa6836a648ca76c68866decf0c8965e36ec2a3b: the options the nfs entry sets that
# tests/nixos-options.nix does not declare (enable, exports and the three ports are there).
{ lib, pkgs, ... }:
let inherit (lib) mkOption types; in
{
  options.services.nfs = {
    server = {
      nproc = mkOption { type = types.int; default = 8; };
      createMountPoints = mkOption { type = types.bool; default = false; };
    };
    settings = mkOption { type = (pkgs.formats.ini { }).type; default = { }; };
  };
}
