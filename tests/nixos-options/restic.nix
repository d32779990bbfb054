# nixos/modules/services/backup/restic.nix, nixpkgs 4aa6836a648ca76c68866decf0c8965e36ec2a3b:
# services.restic.backups, with the sub-options the restic entry sets and those the
# module's assertions read.
{ lib, ... }:
let
  inherit (lib) mkOption types;
  opt = type: default: mkOption { inherit type default; };
  strs = opt (types.listOf types.str) [ ];
  # nixos/lib/systemd-unit-options.nix
  unitAtom = types.nullOr (types.oneOf [ types.bool types.int types.str types.path types.package ]);
  unitOption = types.either unitAtom (types.listOf unitAtom);
in
{
  options.services.restic.backups = opt (types.attrsOf (types.submodule {
    options = {
      paths = opt (types.nullOr (types.listOf types.str)) [ ];
      exclude = strs;
      command = strs;
      dynamicFilesFrom = opt (types.nullOr types.str) null;
      repository = opt (types.nullOr types.str) null;
      repositoryFile = opt (types.nullOr types.path) null;
      passwordFile = opt (types.nullOr types.str) null;
      environmentFile = opt (types.nullOr types.str) null;
      timerConfig = opt (types.nullOr (types.attrsOf unitOption)) {
        OnCalendar = "daily";
        Persistent = true;
      };
      pruneOpts = strs;
      checkOpts = strs;
      extraBackupArgs = strs;
      extraOptions = strs;
      initialize = opt types.bool false;
      user = opt types.str "root";
    };
  })) { };
}
