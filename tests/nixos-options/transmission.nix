# nixos/modules/services/torrent/transmission.nix, the copy with transmission-setup.service and
# transmission_4 as the package's default (newer than nixpkgs 03060208ef081ca29b53dc3a223fa8b7666b1590)
{ lib, pkgs, config, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  cfg = config.services.transmission;
  opt = type: default: mkOption { inherit type default; };
in
{
  options.services.transmission = {
    enable = mkEnableOption "transmission";
    # its default is an error below stateVersion 25.11 (transmission_3 was removed); shown by
    # its defaultText, as mkPackageOption does
    package = mkOption {
      type = types.package;
      default = pkgs.transmission_4;
      defaultText = lib.literalExpression "pkgs.transmission_4";
    };
    credentialsFile = opt types.path "/dev/null";
    downloadDirPermissions = opt (types.nullOr types.str) null;
    group = opt types.str "transmission";
    # not set by the entry: the settings' folder defaults are made from it
    home = opt types.path "/var/lib/transmission";
    openPeerPorts = mkEnableOption "opening of the peer port(s) in the firewall";
    openRPCPort = mkEnableOption "opening of the RPC port in the firewall";
    settings = mkOption {
      default = { };
      type = types.submodule {
        freeformType = (pkgs.formats.json { }).type;
        options = {
          download-dir = opt types.path "${cfg.home}/Downloads";
          incomplete-dir = opt types.path "${cfg.home}/.incomplete";
          incomplete-dir-enabled = opt types.bool true;
          message-level = opt (types.ints.between 0 6) 2;
          peer-port = opt types.port 51413;
          peer-port-random-high = opt types.port 65535;
          peer-port-random-low = opt types.port 65535;
          peer-port-random-on-start = opt types.bool false;
          rpc-bind-address = opt types.str "127.0.0.1";
          rpc-port = opt types.port 9091;
          script-torrent-done-enabled = opt types.bool false;
          script-torrent-done-filename = opt (types.nullOr types.path) null;
          trash-original-torrent-files = opt types.bool false;
          umask = opt (types.either types.int types.str) "022";
          utp-enabled = opt types.bool true;
          watch-dir = opt types.path "${cfg.home}/watchdir";
          watch-dir-enabled = opt types.bool false;
        };
      };
    };
    user = opt types.str "transmission";
  };
}
