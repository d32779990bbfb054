# nixos/modules/services/web-apps/wiki-js.nix, nixpkgs 842f3c5c51b6a61f9636b73fd3abe89769301276
# Every option the wikijs entry sets is declared in tests/nixos-options.nix already
# (services.wiki-js, services.postgresql, systemd.services), and an option is declared once.
# Against the module source, that declaration differs in two places no entry relies on:
# settings.db.type also accepts "sqlite" (the module's enum is postgres, mysql, mariadb,
# mssql), and settings.db.user is a declared option where the module takes it through
# settings' freeform JSON type.
{ ... }:
{ }
