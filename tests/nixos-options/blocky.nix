# nixos/modules/services/networking/blocky.nix, nixpkgs cc56f5cf2350a4e1d76bafc367b1c92caceb4fd3
# (a later copy adds package and enableConfigCheck, which the entry does not set)
{ lib, pkgs, ... }:
let inherit (lib) mkOption mkEnableOption; in
{
  options.services.blocky = {
    enable = mkEnableOption "blocky";
    settings = mkOption { type = (pkgs.formats.yaml { }).type; default = { }; };
  };
}
