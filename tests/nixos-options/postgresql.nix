# nixos/modules/services/databases/postgresql.nix, the newest copy read (nixpkgs of late 2025:
# postgresql_17 for stateVersion 25.11; same options as faukah/nixpkgs 3b20077c): the options
# the catalogue entry sets that tests/nixos-options.nix does not declare. The port moved to
# settings.port in 24.11 (services.postgresql.port is a renamed option since).
{ lib, ... }:
let inherit (lib) mkOption types; in
{
  options.services.postgresql = {
    enableTCPIP = mkOption { type = types.bool; default = false; };
    dataDir = mkOption { type = types.path; };
    # settings is declared in tests/nixos-options.nix (a submodule): these are its typed keys
    settings = mkOption {
      type = types.submodule {
        options.port = mkOption { type = types.port; default = 5432; };
      };
    };
  };
}
