# nixos/modules/services/networking/pihole-ftl.nix, nixpkgs ba5b70b7219883c2140a311466a37018d975ad6b
# (and a later copy with openFirewallDNS, macvendorURL and webserverEnabled), and
# nixos/modules/services/web-apps/pihole-web.nix, nixpkgs 4299b16c29b4169150040318cbf3f45671801345.
# Every option the pihole entry sets (services.pihole-ftl.*, services.pihole-web.*,
# systemd.services.*.serviceConfig, services.resolved.settings) is declared in
# tests/nixos-options.nix already: an option is declared once, so nothing is added here.
{ }
