# nixos/modules/services/security/authelia.nix, nixpkgs 0148e16d1446003704803ecabb5a00cfea7d8568
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  opt = type: default: mkOption { inherit type default; };
  secret = opt (types.nullOr types.path) null;
  instance = { name, ... }: {
    options = {
      enable = mkEnableOption "Authelia instance";
      name = opt types.str name;
      user = opt types.str "authelia-${name}";
      group = opt types.str "authelia-${name}";
      secrets = opt (types.submodule {
        options = {
          manual = opt types.bool false;
          jwtSecretFile = secret;
          oidcIssuerPrivateKeyFile = secret;
          oidcHmacSecretFile = secret;
          sessionSecretFile = secret;
          storageEncryptionKeyFile = secret;
        };
      }) { };
      environmentVariables = opt (types.attrsOf types.str) { };
      settings = opt (types.submodule {
        freeformType = (pkgs.formats.yaml { }).type;
        options = {
          theme = opt (types.enum [ "light" "dark" "grey" "auto" ]) "light";
          default_2fa_method = opt (types.enum [ "" "totp" "webauthn" "mobile_push" ]) "";
          server.address = opt types.str "tcp://:9091/";
          log = {
            level = opt (types.enum [ "trace" "debug" "info" "warn" "error" ]) "debug";
            format = opt (types.enum [ "json" "text" ]) "json";
            file_path = opt (types.nullOr types.path) null;
            keep_stdout = opt types.bool false;
          };
          telemetry.metrics = {
            enabled = opt types.bool false;
            address = opt types.str "tcp://127.0.0.1:9959";
          };
        };
      }) { };
      settingsFiles = opt (types.listOf types.path) [ ];
    };
  };
in
{
  options.services.authelia.instances = opt (types.attrsOf (types.submodule instance)) { };
}
