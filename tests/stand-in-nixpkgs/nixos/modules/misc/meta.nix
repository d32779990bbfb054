# Stand-in for nixpkgs' nixos/modules/misc/meta.nix (read at nixpkgs 13dccba1): the options
# modules define about themselves. `meta.maintainers` is a list of maintainer sets there
# (modules/generic/meta-maintainers.nix); any value is accepted here.
{ lib, ... }:
{
  options.meta = {
    maintainers = lib.mkOption {
      type = lib.types.listOf lib.types.raw;
      internal = true;
      default = [ ];
    };
    teams = lib.mkOption {
      type = lib.types.listOf lib.types.raw;
      internal = true;
      default = [ ];
    };
    doc = lib.mkOption {
      type = lib.types.path // { merge = _loc: defs: defs; };
      internal = true;
    };
    buildDocsInSandbox = lib.mkOption {
      type = lib.types.bool // { merge = _loc: defs: defs; };
      internal = true;
      default = true;
    };
  };
}
