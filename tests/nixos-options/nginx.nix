# nixos/modules/services/web-servers/nginx/default.nix, nixpkgs 5bba330bed5d27ebf3d1f10b4ce562b944d42edb
# (vhost-options.nix read at 9c571847748d3f32ee93d8d883882006c64fc375, location-options.nix
# at e0741f86b9865732cbb47214a5d3412a7f759b5f)
# services.nginx is declared in tests/nixos-options.nix (the nextcloud and frigate modules
# bring nginx, and a reverse proxy with ACME certificates may be nginx): enable, user, group,
# the recommended*Settings, and virtualHosts with their TLS options (forceSSL, addSSL,
# onlySSL, enableACME, useACMEHost, acmeRoot, http2, ...) and locations (proxyPass,
# proxyWebsockets, recommendedProxySettings, ...). An option is declared once, so nothing is
# added here.
{ }
