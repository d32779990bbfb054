# nixos/modules/services/web-apps/dokuwiki.nix, nixpkgs 014d882725c6ab65982a046f110b73214c0f5e1f
# services.dokuwiki.webserver and sites.<name>.settings are declared in tests/nixos-options.nix;
# this adds the site's usersFile to the same submodule (declarations of a submodule merge, so
# this one gives neither a default nor a description of its own).
{ lib, ... }:
let inherit (lib) mkOption types; in
{
  options.services.dokuwiki.sites = mkOption {
    type = types.attrsOf (types.submodule ({ config, name, ... }: {
      # the module's default follows its merged settings ({ useacl = false; } // settings)
      options.usersFile = mkOption {
        type = types.nullOr types.str;
        default = if config.settings.useacl or false then "/var/lib/dokuwiki/${name}/users.auth.php" else null;
      };
    }));
  };
}
