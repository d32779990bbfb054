# nixos/modules/services/monitoring/smartd.nix, nixpkgs 4aa6836a648ca76c68866decf0c8965e36ec2a3b:
# the options the smartd entry sets that tests/nixos-options.nix does not declare (enable,
# autodetect and devices are there). The defaults that depend on other options
# (mail.enable on services.mail.sendmailSetuidWrapper, x11 on services.xserver) are the
# ones they take on a host without those.
{ lib, ... }:
let
  inherit (lib) mkOption types;
  bool = default: mkOption { type = types.bool; inherit default; };
in
{
  options.services.smartd = {
    defaults = {
      monitored = mkOption { type = types.separatedString " "; default = "-a"; };
      autodetected = mkOption { type = types.separatedString " "; default = "-a"; };
    };
    extraOptions = mkOption { type = types.listOf types.str; default = [ ]; };
    notifications = {
      mail = {
        enable = bool false;
        mailer = mkOption { type = types.path; default = "/run/wrappers/bin/sendmail"; };
        recipient = mkOption { type = types.str; default = "root"; };
        sender = mkOption { type = types.str; default = "root"; };
      };
      systembus-notify.enable = bool false;
      test = bool false;
      wall.enable = bool true;
      x11 = {
        enable = bool false;
        display = mkOption { type = types.str; default = ":0"; };
      };
    };
  };
}
