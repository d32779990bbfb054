# nixos/modules/services/monitoring/netdata.nix, nixpkgs 1522d5d6b1759c332b19a4c9a270e5b7ba09f231
{ lib, ... }:
let inherit (lib) mkOption mkEnableOption types; in
{
  options.services.netdata = {
    enable = mkEnableOption "netdata";
    # netdata.conf as sections of keys; `attrs` merges sections shallowly, keeps no priorities
    config = mkOption { type = types.attrsOf types.attrs; default = { }; };
    claimTokenFile = mkOption { type = types.nullOr types.path; default = null; };
  };
}
