# nixos/modules/services/networking/syncthing.nix, nixpkgs 4aa6836a648ca76c68866decf0c8965e36ec2a3b:
# every option the syncthing entry sets (enable, guiAddress, openDefaultPorts, user, dataDir,
# guiPasswordFile, settings, overrideDevices, overrideFolders) is declared in
# tests/nixos-options.nix already, where an option is declared once; checked against that
# source, nothing is left to declare here.
{ ... }:
{ }
