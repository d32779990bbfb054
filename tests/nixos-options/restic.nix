# nixos/modules/services/backup/restic.nix, nixpkgs 4aa6836a648ca76c68866decf0c8965e36ec2a3b:
# services.restic.backups, with the sub-options the restic entry sets and those the
# module's assertions read.
# nixos/modules/services/backup/restic-rest-server.nix, same revision: services.restic.server,
# which the lab's backup host runs (the wiring), and the module's assertion on listenAddress.
# The assertions of both modules are copied as they are, so that a test reading
# `assertions` sees what a real build would refuse.
{ lib, config, ... }:
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

  options.services.restic.server = {
    enable = opt types.bool false;
    appendOnly = opt types.bool false;
    dataDir = opt types.path "/var/lib/restic";
    extraFlags = strs;
    htpasswd-file = opt (types.nullOr types.path) null;
    listenAddress = opt types.str "8000";
    privateRepos = opt types.bool false;
    prometheus = opt types.bool false;
  };

  config.assertions =
    let
      server = config.services.restic.server;
    in
    lib.optional server.enable {
      assertion = lib.substring 0 1 server.listenAddress != ":";
      message = "The restic-rest-server now uses systemd socket activation, which expects only the Port number: services.restic.server.listenAddress = \"${lib.substring 1 6 server.listenAddress}\";";
    }
    ++ lib.flatten (
      lib.mapAttrsToList (name: backup: [
        {
          assertion =
            ((backup.repository == null) != (backup.repositoryFile == null))
            || (backup.environmentFile != null);
          message = "services.restic.backups.${name}: exactly one of repository, repositoryFile or environmentFile should be set";
        }
        {
          assertion =
            let
              fileBackup = (backup.paths != null && backup.paths != [ ]) || backup.dynamicFilesFrom != null;
              commandBackup = backup.command != [ ];
            in
            !(fileBackup && commandBackup);
          message = "services.restic.backups.${name}: cannot do both a command backup and a file backup at the same time.";
        }
        {
          assertion = (backup.passwordFile != null) || (backup.environmentFile != null);
          message = "services.restic.backups.${name}: passwordFile or environmentFile must be set";
        }
      ]) config.services.restic.backups
    );
}
