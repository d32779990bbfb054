# nixos/modules/services/web-servers/caddy/default.nix, nixpkgs 0145c6da2896513d94440e7fb41c11487aa3de16
# (vhost-options.nix read at 0b8aa77df10e1750f7f91fe4bdfa24685792c964, with the vhost's
# logFormat nullable as default.nix 0145c6da reads it)
# Every option the caddy entry sets (enable, email, openFirewall, virtualHosts.<name>.extraConfig)
# and the ones a reverse proxy with ACME certificates sets (acmeCA, globalConfig,
# virtualHosts.<name>.useACMEHost, listenAddresses, logFormat, ...) are declared in
# tests/nixos-options.nix, with these types and defaults: an option is declared once, so
# nothing is added here.
{ }
