{
  description = "homelab: run a home lab of NixOS machines from YAML profiles kept in git (and its demo lab)";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    home-manager = {
      url = "github:nix-community/home-manager/release-26.05";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    { self, nixpkgs, home-manager, ... }@inputs:
    let
      lib = nixpkgs.lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      # the demo lab: every hosts/<name>/configuration.nix is a machine
      hosts = lib.filterAttrs (
        name: type: type == "directory" && builtins.pathExists (./hosts + "/${name}/configuration.nix")
      ) (builtins.readDir ./hosts);
      pythonDeps =
        ps: with ps; [
          textual
          pyyaml
          paramiko
          jsonschema-rs
          gitpython
          ruamel-yaml
          tree-sitter
          tree-sitter-grammars.tree-sitter-nix
        ];
    in
    {
      nixosConfigurations = lib.mapAttrs (
        name: _:
        lib.nixosSystem {
          specialArgs = { inherit inputs; };
          modules = [
            home-manager.nixosModules.home-manager
            (./hosts + "/${name}/configuration.nix")
          ];
        }
      ) hosts;

      # homelab itself, as a Python application
      packages = forAllSystems (pkgs: {
        default = pkgs.python3Packages.buildPythonApplication {
          pname = "homelab";
          version = "0.1.0";
          pyproject = true;
          src = self;
          build-system = [ pkgs.python3Packages.setuptools ];
          dependencies = pythonDeps pkgs.python3Packages;
          nativeCheckInputs = [ pkgs.nix ];
          doCheck = false;
        };
      });

      # for working on homelab: Python with its dependencies and the test tools
      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
            (pkgs.python3.withPackages (
              ps:
              pythonDeps ps
              ++ (with ps; [
                pytest
                hypothesis
                mypy
              ])
            ))
            pkgs.ruff
            pkgs.nix
            pkgs.openssh
            pkgs.tmux
            pkgs.gnumake
          ];
        };
      });
    };
}
