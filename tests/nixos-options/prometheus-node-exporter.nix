# nixos/modules/services/monitoring/prometheus/exporters/node.nix (and exporters.nix): every
# option the catalogue entry sets (enable, port, listenAddress, openFirewall, enabledCollectors,
# disabledCollectors) is declared in tests/nixos-options.nix, checked against
# node.nix at nixpkgs 04c7868cbed9f0bf4093ae455d1fa26de2610f05; nothing to add here.
{ ... }:
{ }
