# nixos/modules/services/monitoring/uptime-kuma.nix, nixpkgs 161b3b0108441b7b27fa89a8ce75823bf9229e43:
# what tests/nixos-options.nix does not declare of what the catalogue entry sets
{ lib, ... }:
{
  options.services.uptime-kuma.appriseSupport = lib.mkEnableOption "apprise support for notifications";
}
