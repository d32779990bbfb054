# nixos/modules/services/monitoring/ups.nix, nixpkgs 4aa6836a648ca76c68866decf0c8965e36ec2a3b:
# every option the nut entry sets (power.ups.enable, .ups.<name>.{driver,port,description,
# directives}, .users.<name>.{passwordFile,upsmon}, .upsmon.monitor.<name>.{system,user,type}
# and .upsmon.settings) is declared in tests/nixos-options.nix already, where an option is
# declared once; nothing is left to declare here.
{ ... }:
{ }
