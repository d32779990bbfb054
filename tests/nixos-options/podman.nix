# nixos/modules/virtualisation/podman/default.nix, nixpkgs 4aa6836a648ca76c68866decf0c8965e36ec2a3b:
# the option the podman entry sets that tests/nixos-options.nix does not declare (enable,
# dockerCompat and autoPrune.enable are there).
{ lib, ... }:
let inherit (lib) mkOption types; in
{
  options.virtualisation.podman.dockerSocket.enable = mkOption { type = types.bool; default = false; };
}
