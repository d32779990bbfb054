# nixos/modules/services/backup/borgbackup.nix, nixpkgs 7e11627259348a340b42c4b7dd7448f1e68ce7de:
# the options of a job that the catalogue entry sets, with the module's types and defaults
{ lib, config, ... }:
let
  inherit (lib) mkOption types;
  hostName = config.networking.hostName;
in
{
  options.services.borgbackup.jobs = mkOption {
    default = { };
    type = types.attrsOf (types.submodule ({ name, config, ... }: {
      options = {
        paths = mkOption {
          type = types.nullOr (types.coercedTo types.str lib.singleton (types.listOf types.str));
          default = null;
        };
        repo = mkOption { type = types.str; };
        archiveBaseName = mkOption {
          type = types.nullOr (types.strMatching "[^/{}]+");
          default = "${hostName}-${name}";
        };
        startAt = mkOption { type = types.either types.str (types.listOf types.str); default = "daily"; };
        persistentTimer = mkOption { type = types.bool; default = false; };
        user = mkOption { type = types.str; default = "root"; };
        group = mkOption { type = types.str; default = "root"; };
        encryption.mode = mkOption {
          type = types.enum [
            "repokey" "keyfile" "repokey-blake2" "keyfile-blake2"
            "authenticated" "authenticated-blake2" "none"
          ];
        };
        encryption.passCommand = mkOption { type = types.nullOr types.str; default = null; };
        encryption.passphrase = mkOption { type = types.nullOr types.str; default = null; };
        compression = mkOption {
          type = types.strMatching "none|(auto,)?(lz4|zstd|zlib|lzma)(,[[:digit:]]{1,2})?";
          default = "lz4";
        };
        exclude = mkOption { type = types.listOf types.str; default = [ ]; };
        prune.keep = mkOption {
          type = types.attrsOf (types.either types.int (types.strMatching "[[:digit:]]+[Hdwmy]"));
          default = { };
        };
        prune.prefix = mkOption { type = types.nullOr types.str; default = config.archiveBaseName; };
        environment = mkOption { type = types.attrsOf types.str; default = { }; };
      };
    }));
  };
}
