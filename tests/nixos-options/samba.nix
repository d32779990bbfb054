# nixos/modules/services/network-filesystems/samba-wsdd.nix and
# nixos/modules/services/networking/avahi-daemon.nix, nixpkgs
# 4aa6836a648ca76c68866decf0c8965e36ec2a3b: the options the samba entry sets that
# tests/nixos-options.nix does not declare (services.samba itself is declared there).
{ lib, ... }:
let inherit (lib) mkOption types; in
{
  options.services.samba-wsdd.workgroup = mkOption { type = types.nullOr types.str; default = null; };
  options.services.avahi = {
    publish = {
      enable = mkOption { type = types.bool; default = false; };
      userServices = mkOption { type = types.bool; default = false; };
    };
    extraServiceFiles = mkOption { type = types.attrsOf (types.either types.str types.path); default = { }; };
  };
}
