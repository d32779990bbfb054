"""Where a host's system is built, as its Nix (hosts/NAME/builds.nix)."""
