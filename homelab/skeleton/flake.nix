{
  description = "A home lab of NixOS machines, managed with homelab";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    home-manager = {
      url = "github:nix-community/home-manager/release-26.05";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    { nixpkgs, home-manager, ... }@inputs:
    let
      lib = nixpkgs.lib;
      # every hosts/<name>/configuration.nix is a machine: adding a host needs no edit here
      hosts = lib.filterAttrs (
        name: type: type == "directory" && builtins.pathExists (./hosts + "/${name}/configuration.nix")
      ) (builtins.readDir ./hosts);
    in
    {
      # the platform comes from each profile, as nixpkgs.hostPlatform
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
    };
}
