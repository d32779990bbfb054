# nixos/modules/services/security/vaultwarden/default.nix, nixpkgs
# 01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb (backupDir is the same in the later revisions with
# `domain`); enable, domain, config and environmentFile are in tests/nixos-options.nix
{ lib, ... }:
let inherit (lib) mkOption types; in
{
  options.services.vaultwarden.backupDir = mkOption { type = types.nullOr types.str; default = null; };
}
