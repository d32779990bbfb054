# A stand-in for agenix's NixOS module: the option declarations of ryantm/agenix
# modules/age.nix at 019784cb, written out as that file declares them (names, types,
# defaults), so that the module system checks the `age.secrets` homelab generates against
# agenix's own types. Left out: what decrypts at activation (system.activationScripts,
# launchd on Darwin) and rage's version check; `ageBin` names pkgs.rage as there.
#
# tests/compile/test_secrets_eval.py hands it to a lab's flake as `inputs.agenix`
# (nixosModules.default), as the real agenix flake's nixosModules.default is this module.
{ config, options, lib, pkgs, ... }:
with lib;
let
  cfg = config.age;
  isDarwin = builtins.hasAttr "darwinConfig" options.environment;
  users = config.users.users;

  secretType = types.submodule ({ config, ... }: {
    options = {
      name = mkOption {
        type = types.str;
        default = config._module.args.name;
        description = "Name of the file used in \${cfg.secretsDir}";
      };
      file = mkOption {
        type = types.path;
        description = "Age file the secret is loaded from.";
      };
      path = mkOption {
        type = types.str;
        default = "${cfg.secretsDir}/${config.name}";
        description = "Path where the decrypted secret is installed.";
      };
      mode = mkOption {
        type = types.str;
        default = "0400";
        description = "Permissions mode of the decrypted secret in a format understood by chmod.";
      };
      owner = mkOption {
        type = types.str;
        default = "0";
        description = "User of the decrypted secret.";
      };
      group = mkOption {
        type = types.str;
        default = users.${config.owner}.group or "0";
        description = "Group of the decrypted secret.";
      };
      symlink = mkEnableOption "symlinking secrets to their destination" // { default = true; };
    };
  });
in
{
  imports = [
    (mkRenamedOptionModule [ "age" "sshKeyPaths" ] [ "age" "identityPaths" ])
  ];

  options.age = {
    ageBin = mkOption {
      type = types.str;
      default = "${pkgs.rage}/bin/rage";
      description = "The age executable to use.";
    };
    secrets = mkOption {
      type = types.attrsOf secretType;
      default = { };
      description = "Attrset of secrets.";
    };
    secretsDir = mkOption {
      type = types.path;
      default = "/run/agenix";
      description = "Folder where secrets are symlinked to";
    };
    secretsMountPoint = mkOption {
      type =
        types.addCheck types.str
          (s:
            (builtins.match "[ \t\n]*" s) == null # non-empty
            && (builtins.match ".+/" s) == null) # without trailing slash
        // { description = "${types.str.description} (with check: non-empty without trailing slash)"; };
      default = "/run/agenix.d";
      defaultText = "/run/agenix.d";
      description = "Where secrets are created before they are symlinked to \${cfg.secretsDir}";
    };
    identityPaths = mkOption {
      type = types.listOf types.path;
      default =
        if (config.services.openssh.enable or false)
        then map (e: e.path) (lib.filter (e: e.type == "rsa" || e.type == "ed25519") config.services.openssh.hostKeys)
        else if isDarwin
        then [
          "/etc/ssh/ssh_host_ed25519_key"
          "/etc/ssh/ssh_host_rsa_key"
        ]
        else [ ];
      description = "Path to SSH keys to be used as identities in age decryption.";
    };
  };

  config = mkIf (cfg.secrets != { }) {
    assertions = [
      {
        assertion = cfg.identityPaths != [ ];
        message = "age.identityPaths must be set.";
      }
    ];
  };
}
