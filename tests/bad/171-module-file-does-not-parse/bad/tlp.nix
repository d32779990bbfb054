{ config, pkgs, ... }:
{
  services.tlp.enable = true
}
