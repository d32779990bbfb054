# nixos/modules/services/networking/tailscale.nix, as of the release with authKeyParameters,
# extraSetFlags and extraDaemonFlags (nixpkgs 00111980f1d92765014615557c9b3c63d3b0f0fb is older,
# without openFirewall, authKeyFile, useRoutingFeatures and extraUpFlags).
# Every option the tailscale entry sets is declared in tests/nixos-options.nix already, with
# these types and defaults: an option is declared once, so nothing is added here.
{ }
