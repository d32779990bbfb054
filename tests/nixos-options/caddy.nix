# nixos/modules/services/web-servers/caddy/default.nix, nixpkgs 0145c6da2896513d94440e7fb41c11487aa3de16
# Every option the caddy entry sets (enable, email, openFirewall, virtualHosts.<name>.extraConfig)
# is declared in tests/nixos-options.nix already, with these types and defaults: an option is
# declared once, so nothing is added here.
{ }
