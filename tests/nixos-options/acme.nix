# nixos/modules/security/acme/default.nix, nixpkgs c9634190fe4c832b63bb617a72fdd4461b3ca9da
# ACME certificates (lego) for a lab with a domain: the reverse proxy (caddy's or nginx's
# useACMEHost) reads a cert's directory. The options that security.acme.defaults and each
# cert share are declared once, as the source's `inheritableModule` does: a cert's default
# is the value of security.acme.defaults unless the cert sets inheritDefaults = false.
# Left out: the removed options that the source keeps as hidden sentinels (certs.<name>.user,
# allowKeysForGroup, extraDomains) and the renamed top-level ones (security.acme.email,
# server, ...): a generated module that sets them fails here as an undeclared option.
{ lib, config, ... }:
let
  inherit (lib) mkOption types;
  defaults = config.security.acme.defaults;
  letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory";

  inheritable = isDefaults: { config, ... }:
    let
      option = name: type: default: mkOption {
        inherit type;
        default = if isDefaults || !config.inheritDefaults then default else defaults.${name};
      };
    in
    {
      # credentialsFile is the old name of environmentFile (a rename, not a second option)
      imports = [ (lib.mkRenamedOptionModule [ "credentialsFile" ] [ "environmentFile" ]) ];
      options = {
        validMinDays = option "validMinDays" types.int 30;
        renewInterval = option "renewInterval" types.str "daily";
        enableDebugLogs = option "enableDebugLogs" types.bool true;
        webroot = option "webroot" (types.nullOr types.str) null;
        server = option "server" (types.nullOr types.str) letsEncrypt;
        email = option "email" (types.nullOr types.str) null;
        group = option "group" types.str "acme";
        reloadServices = option "reloadServices" (types.listOf types.str) [ ];
        postRun = option "postRun" types.lines "";
        keyType = option "keyType" types.str "ec256";
        listenHTTP = option "listenHTTP" (types.nullOr types.str) null;
        dnsProvider = option "dnsProvider" (types.nullOr types.str) null;
        dnsResolver = option "dnsResolver" (types.nullOr types.str) null;
        environmentFile = option "environmentFile" (types.nullOr types.path) null;
        credentialFiles = option "credentialFiles" (types.attrsOf types.path) { };
        dnsPropagationCheck = option "dnsPropagationCheck" types.bool true;
        ocspMustStaple = option "ocspMustStaple" types.bool false;
        profile = option "profile" (types.nullOr types.str) null;
        extraLegoFlags = option "extraLegoFlags" (types.listOf types.str) [ ];
        extraLegoRenewFlags = option "extraLegoRenewFlags" (types.listOf types.str) [ ];
        extraLegoRunFlags = option "extraLegoRunFlags" (types.listOf types.str) [ ];
      };
    };

  cert = { name, ... }: {
    options = {
      directory = mkOption {
        type = types.str;
        readOnly = true;
        default = "/var/lib/acme/${name}";
      };
      domain = mkOption { type = types.str; default = name; };
      csr = mkOption { type = types.nullOr types.str; default = null; };
      csrKey = mkOption { type = types.nullOr types.str; default = null; };
      extraDomainNames = mkOption { type = types.listOf types.str; default = [ ]; };
      s3Bucket = mkOption { type = types.nullOr types.str; default = null; };
      inheritDefaults = mkOption { type = types.bool; default = true; };
    };
  };
in
{
  options.security.acme = {
    acceptTerms = mkOption { type = types.bool; default = false; };
    useRoot = mkOption { type = types.bool; default = false; };
    # no default in the source either: an undefined submodule reads as its options' defaults
    defaults = mkOption { type = types.submodule (inheritable true); };
    certs = mkOption {
      type = types.attrsOf (types.submodule [ (inheritable false) cert ]);
      default = { };
    };
    maxConcurrentRenewals = mkOption { type = types.int; default = 5; };
  };
}
