# What homelab's builds.nix sets (homelab/buildsnix.py: lab.yaml builds:, deploy.buildOn),
# declared from nixpkgs (NixOS/nixpkgs):
# - nixos/modules/config/nix-remote-build.nix at bc64bc8df51fce425320eecd4c7f90946d79baa6:
#   nix.buildMachines, nix.distributedBuilds (and its assertion);
# - nixos/modules/config/nix.nix at 013635633ffe11f70df1d639f563f21c42c1f778: its own
#   definitions of cache.nixos.org (below, as there), which a lab's must join, not replace;
# - nixos/modules/system/boot/binfmt.nix at e3f2b972f7d237919c8ebb1947200626e15557be:
#   boot.binfmt.emulatedSystems, an enum of the systems it knows (`magics`);
# - nixos/modules/programs/ssh.nix at f803fb870ae4aaab597c6b1e92f50517c467671f:
#   programs.ssh.extraConfig, programs.ssh.knownHosts (and its assertion);
# - nixos/modules/services/networking/harmonia.nix (637b7c60fb5c53be0fc25182f6c5138f40d85e26,
#   and the later signKeyPaths list): enable, signKeyPaths, settings (TOML, bind "[::]:5000"
#   at mkDefault).
# nix.settings itself (freeform, with trusted-users, substituters, trusted-public-keys) is
# declared in tests/nixos-options.nix.
{ lib, pkgs, config, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  opt = type: default: mkOption { inherit type default; };
  toml = pkgs.formats.toml { };
  # binfmt.nix's `magics`: the systems it can emulate
  magics = [
    "armv6l-linux" "armv7l-linux" "aarch64-linux" "aarch64_be-linux" "i386-linux"
    "i486-linux" "i586-linux" "i686-linux" "x86_64-linux" "alpha-linux" "sparc64-linux"
    "sparc-linux" "powerpc-linux" "powerpc64-linux" "powerpc64le-linux" "mips-linux"
    "mipsel-linux" "mips64-linux" "mips64el-linux" "mips64-linuxabin32"
    "mips64el-linuxabin32" "riscv32-linux" "riscv64-linux" "loongarch64-linux"
    "wasm32-wasi" "wasm64-wasi" "s390x-linux" "x86_64-windows" "i686-windows"
  ];
  machine = types.submodule {
    options = {
      hostName = mkOption { type = types.str; };
      protocol = opt (types.enum [ null "ssh" "ssh-ng" ]) "ssh";
      system = opt (types.nullOr types.str) null;
      systems = opt (types.listOf types.str) [ ];
      sshUser = opt (types.nullOr types.str) null;
      sshKey = opt (types.nullOr types.str) null;
      maxJobs = opt types.int 1;
      speedFactor = opt types.int 1;
      mandatoryFeatures = opt (types.listOf types.str) [ ];
      supportedFeatures = opt (types.listOf types.str) [ ];
      publicHostKey = opt (types.nullOr types.str) null;
    };
  };
  knownHost = types.submodule ({ name, config, ... }: {
    options = {
      certAuthority = opt types.bool false;
      hostNames = opt (types.listOf types.str) ([ name ] ++ config.extraHostNames);
      extraHostNames = opt (types.listOf types.str) [ ];
      publicKey = opt (types.nullOr types.str) null;
      publicKeyFile = opt (types.nullOr types.path) null;
    };
  });
in
{
  options = {
    nix.buildMachines = opt (types.listOf machine) [ ];
    nix.distributedBuilds = opt types.bool false;
    boot.binfmt.emulatedSystems = opt (types.listOf (types.enum magics)) [ ];
    programs.ssh = {
      extraConfig = opt types.lines "";
      knownHosts = opt (types.attrsOf knownHost) { };
    };
    services.harmonia = {
      enable = mkEnableOption "Harmonia: Nix binary cache written in Rust";
      signKeyPaths = opt (types.listOf types.path) [ ];
      settings = opt toml.type { };
    };
  };

  config = lib.mkMerge [
    # nix.nix: cache.nixos.org, at normal priority (substituters ordered last)
    (lib.mkIf config.nix.enable {
      nix.settings = {
        trusted-public-keys = [ "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=" ];
        trusted-users = [ "root" ];
        substituters = lib.mkAfter [ "https://cache.nixos.org/" ];
      };
    })
    (lib.mkIf config.services.harmonia.enable {
      services.harmonia.settings = builtins.mapAttrs (_: lib.mkDefault) {
        bind = "[::]:5000";
        workers = 4;
        max_connection_rate = 256;
        priority = 50;
      };
    })
    {
      assertions =
        [
          {
            assertion = !(lib.any (m: m.system == null && m.systems == [ ]) config.nix.buildMachines);
            message = "At least one system type (via system or systems) must be set for every build machine.";
          }
        ]
        ++ lib.mapAttrsToList (name: data: {
          assertion = (data.publicKey == null && data.publicKeyFile != null)
            || (data.publicKey != null && data.publicKeyFile == null);
          message = "knownHost ${name} must contain either a publicKey or publicKeyFile";
        }) config.programs.ssh.knownHosts;
    }
  ];
}
