# NixOS option declarations for tests that evaluate generated modules with the real module
# system (tests/modulesystem.py). NixOS's own modules are too large to bring in, so this
# module declares the options our labs set, with the types nixpkgs gives them, so that
# `_module.check` refuses an option that is not declared and the types refuse wrong values.
# Sub-options are the ones we use; `settings`-style options keep nixpkgs' freeform types.
#
# Read in nixpkgs (NixOS/nixpkgs): nixos/modules/config/users-groups.nix at 005ab72f,
# system/boot/resolved.nix at 00fad191, misc/assertions.nix at 08062fcc, misc/meta.nix at
# 13dccba1; the rest follows the modules of the same tree (nixos-unstable, 2026).
#
# A test lab that sets an option not declared here fails with "The option `...' does not
# exist": declare it below with its real type (never loosen the check or add a
# freeformType at the top).
{ lib, pkgs, config, ... }:
let
  outer = config;
  inherit (lib) mkOption mkEnableOption types;
  opt = type: default: mkOption { inherit type default; };
  optional = type: mkOption { type = types.nullOr type; default = null; };
  bool = default: opt types.bool default;
  strs = opt (types.listOf types.str) [ ];
  ports = opt (types.listOf types.port) [ ];
  lines = opt types.lines "";
  # a submodule that holds what the format of a settings file holds, plus typed keys
  settings = format: options: mkOption {
    type = types.submodule { freeformType = format.type; inherit options; };
    default = { };
  };
  json = pkgs.formats.json { };
  ini = pkgs.formats.ini { };
  keyValue = pkgs.formats.keyValue { };

  # nixos/lib/systemd-unit-options.nix
  unitAtom = types.nullOr (types.oneOf [ types.bool types.int types.str types.path types.package ]);
  unitOption = types.either unitAtom (types.listOf unitAtom);
  unitCommon = {
    enable = bool true;
    description = opt types.str "";
    documentation = strs;
    wantedBy = strs;
    requiredBy = strs;
    wants = strs;
    requires = strs;
    after = strs;
    before = strs;
    bindsTo = strs;
    partOf = strs;
    conflicts = strs;
    unitConfig = opt (types.attrsOf unitOption) { };
  };
  service = types.submodule {
    options = unitCommon // {
      script = lines;
      preStart = lines;
      postStart = lines;
      preStop = lines;
      postStop = lines;
      path = opt (types.listOf (types.either types.package types.str)) [ ];
      environment = opt (types.attrsOf (types.nullOr (types.oneOf [ types.str types.path types.package ]))) { };
      serviceConfig = opt (types.attrsOf unitOption) { };
      # a string or a list; the module system reads it back as a list (its `apply`)
      startAt = mkOption {
        type = types.either types.str (types.listOf types.str);
        default = [ ];
        apply = v: if builtins.isList v then v else [ v ];
      };
      restartIfChanged = bool true;
      reloadIfChanged = bool false;
      stopIfChanged = bool true;
      restartTriggers = opt (types.listOf types.unspecified) [ ];
      reloadTriggers = opt (types.listOf types.unspecified) [ ];
    };
  };
  timer = types.submodule {
    options = unitCommon // {
      timerConfig = opt (types.attrsOf unitOption) { };
    };
  };

  # nixos/modules/config/users-groups.nix
  user = types.submodule ({ name, config, ... }: {
    options = {
      enable = bool true;
      name = opt (types.passwdEntry types.str) name;
      description = opt (types.passwdEntry types.str) "";
      uid = optional types.int;
      isSystemUser = bool false;
      isNormalUser = bool false;
      group = opt types.str "";
      extraGroups = strs;
      home = opt (types.passwdEntry types.path) "/var/empty";
      homeMode = opt (types.strMatching "[0-7]{1,5}") "700";
      createHome = bool false;
      useDefaultShell = bool false;
      shell = opt (types.nullOr (types.either types.shellPackage (types.passwdEntry types.path))) pkgs.shadow;
      hashedPassword = optional (types.passwdEntry types.str);
      hashedPasswordFile = optional types.str;
      password = optional types.str;
      initialPassword = optional types.str;
      initialHashedPassword = optional (types.passwdEntry types.str);
      packages = opt (types.listOf types.package) [ ];
      linger = optional types.bool;
      openssh.authorizedKeys = {
        keys = opt (types.listOf types.singleLineStr) [ ];
        keyFiles = opt (types.listOf types.path) [ ];
      };
      subUidRanges = opt (types.listOf types.attrs) [ ];
      subGidRanges = opt (types.listOf types.attrs) [ ];
      autoSubUidGidRange = bool false;
    };
    config = lib.mkIf config.isNormalUser {
      group = lib.mkDefault "users";
      createHome = lib.mkDefault true;
      home = lib.mkDefault "/home/${config.name}";
      useDefaultShell = lib.mkDefault true;
    };
  });
  group = types.submodule ({ name, ... }: {
    options = {
      name = opt (types.passwdEntry types.str) name;
      gid = optional types.int;
      members = opt (types.listOf (types.passwdEntry types.str)) [ ];
    };
  });

  # nixos/modules/tasks/filesystems.nix
  fileSystem = types.submodule ({ name, ... }: {
    options = {
      mountPoint = opt types.str name;
      device = optional types.nonEmptyStr;
      label = optional types.str;
      fsType = opt types.nonEmptyStr "auto";
      options = opt (types.nonEmptyListOf types.nonEmptyStr) [ "defaults" ];
      depends = opt (types.listOf types.nonEmptyStr) [ ];
      neededForBoot = bool false;
      noCheck = bool false;
      autoFormat = bool false;
      autoResize = bool false;
    };
  });
  swapDevice = types.submodule {
    options = {
      device = mkOption { type = types.nonEmptyStr; };
      label = optional types.str;
      size = optional types.int;
      priority = optional types.int;
      randomEncryption.enable = bool false;
      discardPolicy = optional (types.enum [ "once" "pages" "both" ]);
      options = opt (types.nonEmptyListOf types.nonEmptyStr) [ "defaults" ];
    };
  };

  # nixos/modules/tasks/network-interfaces.nix
  address = types.submodule {
    options = {
      address = mkOption { type = types.str; };
      prefixLength = mkOption { type = types.addCheck types.int (n: n >= 0 && n <= 128); };
    };
  };
  gateway = types.submodule {
    options = {
      address = mkOption { type = types.str; };
      interface = optional types.str;
      metric = optional types.int;
      source = optional types.str;
    };
  };
  interface = types.submodule {
    options = {
      useDHCP = optional types.bool;
      ipv4.addresses = opt (types.listOf address) [ ];
      ipv6.addresses = opt (types.listOf address) [ ];
      mtu = optional types.int;
      wakeOnLan.enable = bool false;
    };
  };
  portRange = types.attrsOf types.port;
  upsAtom = types.nullOr (types.oneOf [ types.bool types.float types.int types.str ]);
  firewallPorts = {
    allowedTCPPorts = ports;
    allowedUDPPorts = ports;
    allowedTCPPortRanges = opt (types.listOf portRange) [ ];
    allowedUDPPortRanges = opt (types.listOf portRange) [ ];
  };
in
{
  # one file a catalogue entry (or a few options of a service), written from its module's
  # source in nixpkgs: tests/nixos-options/<entry>.nix (see the README there)
  imports = map (name: ./nixos-options + "/${name}")
    (builtins.filter (lib.hasSuffix ".nix")
      (builtins.attrNames (builtins.readDir ./nixos-options)));

  options = {
    # nixos/modules/misc/assertions.nix
    assertions = opt (types.listOf types.unspecified) [ ];
    warnings = opt (types.listOf types.str) [ ];

    boot = {
      loader = {
        timeout = optional types.int;
        systemd-boot = {
          enable = bool false;
          configurationLimit = optional types.int;
          editor = bool true;
        };
        efi = {
          canTouchEfiVariables = bool false;
          efiSysMountPoint = opt types.str "/boot";
        };
        grub = {
          enable = bool true;
          device = opt types.str "";
          devices = strs;
          efiSupport = bool false;
          efiInstallAsRemovable = bool false;
          useOSProber = bool false;
          configurationLimit = opt types.int 100;
        };
        generic-extlinux-compatible = {
          enable = bool false;
          configurationLimit = opt types.int 20;
        };
      };
      initrd = {
        availableKernelModules = strs;
        kernelModules = strs;
        luks.devices = opt (types.attrsOf (types.submodule {
          options.device = mkOption { type = types.str; };
        })) { };
      };
      kernelModules = strs;
      kernelParams = strs;
      extraModulePackages = opt (types.listOf types.package) [ ];
      blacklistedKernelModules = strs;
      kernelPackages = mkOption { type = types.raw; };
      # nixos/modules/tasks/filesystems.nix: a list is coerced to a set of names
      supportedFilesystems = opt (types.coercedTo (types.listOf types.str)
        (names: lib.listToAttrs (map (name: lib.nameValuePair name true) names))
        (types.attrsOf types.bool)) { };
      kernel.sysctl = opt (types.attrsOf (types.nullOr (types.oneOf [ types.bool types.str types.int ]))) { };
      tmp.cleanOnBoot = bool false;
    };

    hardware = {
      cpu.amd.updateMicrocode = bool false;
      cpu.intel.updateMicrocode = bool false;
      enableRedistributableFirmware = bool false;
      enableAllFirmware = bool false;
      bluetooth.enable = bool false;
      graphics.enable = bool false;
    };

    fileSystems = opt (types.attrsOf fileSystem) { };
    swapDevices = opt (types.listOf swapDevice) [ ];
    zramSwap = {
      enable = bool false;
      memoryPercent = opt types.int 50;
      algorithm = opt types.str "zstd";
    };

    networking = {
      hostName = opt (types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$") "nixos";
      domain = optional (types.strMatching "^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?(\\.[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?)*$");
      hostId = optional types.str;
      useDHCP = bool true;
      nameservers = strs;
      search = strs;
      defaultGateway = optional (types.coercedTo types.str (address: { inherit address; }) gateway);
      defaultGateway6 = optional (types.coercedTo types.str (address: { inherit address; }) gateway);
      interfaces = opt (types.attrsOf interface) { };
      hosts = opt (types.attrsOf (types.listOf types.str)) { };
      networkmanager.enable = bool false;
      wireless.enable = bool false;
      nftables.enable = bool false;
      firewall = firewallPorts // {
        enable = bool true;
        allowPing = bool true;
        trustedInterfaces = strs;
        logRefusedConnections = bool true;
        # firewall-iptables.nix (0d953321): shell lines run before the final refuse rule;
        # firewall-nftables.nix (040b4eb6) refuses both when networking.nftables.enable is set
        extraCommands = lines;
        extraStopCommands = lines;
        # firewall-nftables.nix (040b4eb6): nftables rules appended to the input-allow chain
        extraInputRules = lines;
        interfaces = opt (types.attrsOf (types.submodule { options = firewallPorts; })) { };
      };
    };

    users = {
      mutableUsers = bool true;
      defaultUserShell = opt (types.either types.path types.shellPackage) pkgs.bashInteractive;
      users = opt (types.attrsOf user) { };
      groups = opt (types.attrsOf group) { };
    };

    console = {
      useXkbConfig = bool false;
      keyMap = opt (types.either types.str types.path) "us";
    };
    i18n = {
      defaultLocale = opt types.str "en_US.UTF-8";
      extraLocaleSettings = opt (types.attrsOf types.str) { };
      supportedLocales = strs;
    };
    time.timeZone = optional (types.addCheck types.str (lib.hasInfix "/") // { description = "time zone"; });

    nixpkgs = {
      hostPlatform = mkOption { type = types.either types.str types.attrs; };
      # a nixpkgs config set, merged recursively (nixos/modules/misc/nixpkgs.nix)
      config = opt types.attrs { };
    };
    system.stateVersion = mkOption { type = types.str; };

    nix = {
      enable = bool true;
      package = opt types.package pkgs.nix;
      settings = settings keyValue {
        auto-optimise-store = bool false;
        trusted-users = strs;
        allowed-users = opt (types.listOf types.str) [ "*" ];
        substituters = strs;
        trusted-public-keys = strs;
        max-jobs = opt (types.either types.int (types.enum [ "auto" ])) "auto";
        cores = opt types.int 0;
        sandbox = opt (types.either types.bool (types.enum [ "relaxed" ])) true;
      };
      gc = {
        automatic = bool false;
        dates = opt (types.either types.singleLineStr (types.listOf types.str)) [ "03:15" ];
        options = opt types.str "";
        persistent = bool true;
        randomizedDelaySec = opt types.singleLineStr "0";
      };
      optimise = {
        automatic = bool false;
        dates = opt (types.listOf types.str) [ "03:45" ];
      };
      extraOptions = lines;
    };

    environment = {
      systemPackages = opt (types.listOf types.package) [ ];
      shells = opt (types.listOf (types.either types.shellPackage types.path)) [ ];
      pathsToLink = strs;
      shellAliases = opt (types.attrsOf (types.nullOr (types.either types.str types.path))) { };
      variables = opt (types.attrsOf (types.either (types.either types.str types.path) (types.listOf (types.either types.str types.path)))) { };
      etc = opt (types.attrsOf (types.submodule {
        options = {
          text = optional types.lines;
          source = optional types.path;
          mode = opt types.str "symlink";
          user = opt types.str "+0";
          group = opt types.str "+0";
        };
      })) { };
    };

    security.sudo = {
      enable = bool true;
      wheelNeedsPassword = bool true;
    };

    programs = {
      zsh.enable = bool false;
      fish.enable = bool false;
      git.enable = bool false;
      nix-ld.enable = bool false;
      mosh.enable = bool false;
    };

    systemd = {
      services = opt (types.attrsOf service) { };
      timers = opt (types.attrsOf timer) { };
      tmpfiles.rules = strs;
    };

    xdg.portal = {
      enable = bool false;
      config = opt (types.attrsOf (types.attrsOf (types.either types.str (types.listOf types.str)))) { };
      extraPortals = opt (types.listOf types.package) [ ];
    };

    virtualisation = {
      docker = {
        enable = bool false;
        enableOnBoot = bool true;
        autoPrune = {
          enable = bool false;
          dates = opt types.str "weekly";
          flags = strs;
        };
        rootless.enable = bool false;
      };
      podman = {
        enable = bool false;
        dockerCompat = bool false;
        autoPrune.enable = bool false;
      };
      oci-containers = {
        backend = opt (types.enum [ "podman" "docker" ]) "podman";
        containers = opt (types.attrsOf (types.submodule {
          options = {
            image = mkOption { type = types.str; };
            autoStart = bool true;
            ports = strs;
            volumes = strs;
            environment = opt (types.attrsOf types.str) { };
            environmentFiles = opt (types.listOf types.path) [ ];
            extraOptions = strs;
            cmd = strs;
            dependsOn = strs;
          };
        })) { };
      };
    };

    services = {
      xserver = {
        enable = bool false;
        xkb = {
          layout = opt types.str "us";
          variant = opt types.str "";
          options = opt types.commas "terminate:ctrl_alt_bksp";
        };
      };
      fwupd.enable = bool false;
      flatpak.enable = bool false;
      fstrim.enable = bool false;
      smartd = {
        enable = bool false;
        autodetect = bool true;
        devices = opt (types.listOf (types.submodule {
          options = {
            device = mkOption { type = types.str; };
            options = opt (types.separatedString " ") "";
          };
        })) [ ];
      };
      avahi = {
        enable = bool false;
        nssmdns4 = bool false;
        openFirewall = bool true;
      };
      printing.enable = bool false;

      openssh = {
        enable = bool false;
        openFirewall = bool true;
        ports = opt (types.listOf types.port) [ 22 ];
        # read by agenix's identityPaths default (sshd.nix: its default key files)
        hostKeys = opt (types.listOf types.attrs) [
          { type = "rsa"; bits = 4096; path = "/etc/ssh/ssh_host_rsa_key"; }
          { type = "ed25519"; path = "/etc/ssh/ssh_host_ed25519_key"; }
        ];
        settings = settings keyValue {
          PasswordAuthentication = opt (types.nullOr types.bool) true;
          KbdInteractiveAuthentication = opt (types.nullOr types.bool) true;
          PermitRootLogin = opt (types.nullOr (types.enum [ "yes" "without-password" "prohibit-password" "forced-commands-only" "no" ])) "prohibit-password";
          X11Forwarding = opt (types.nullOr types.bool) false;
          AllowUsers = optional (types.listOf types.str);
        };
      };

      tailscale = {
        enable = bool false;
        port = opt types.port 41641;
        openFirewall = bool false;
        useRoutingFeatures = opt (types.enum [ "none" "client" "server" "both" ]) "none";
        extraUpFlags = strs;
        extraSetFlags = strs;
        authKeyFile = optional types.path;
        interfaceName = opt types.str "tailscale0";
      };

      syncthing = {
        enable = bool false;
        user = opt types.str "syncthing";
        group = opt types.str "syncthing";
        dataDir = opt types.path "/var/lib/syncthing";
        configDir = opt types.path "/var/lib/syncthing/.config/syncthing";
        guiAddress = opt types.str "127.0.0.1:8384";
      guiPasswordFile = optional types.str;
        openDefaultPorts = bool false;
        overrideDevices = bool true;
        overrideFolders = bool true;
        settings = settings json { };
      };

      # nixos/modules/services/network-filesystems/samba.nix: [global] and one section a share
      samba = {
        enable = bool false;
        openFirewall = bool false;
        nmbd.enable = bool true;
        winbindd.enable = bool true;
        smbd.enable = bool true;
        settings = mkOption {
          type = types.submodule {
            freeformType = types.attrsOf (types.attrsOf (types.nullOr (types.oneOf [ (types.listOf types.str) types.str types.bool types.int ])));
            options.global = {
              security = opt (types.enum [ "auto" "user" "domain" "ads" ]) "user";
              "invalid users" = opt (types.listOf types.str) [ "root" ];
              "passwd program" = opt types.str "/run/wrappers/bin/passwd %u";
            };
          };
          default = { };
        };
      };
      samba-wsdd = {
        enable = bool false;
        openFirewall = bool false;
        discovery = bool false;
      };
      nfs.server = {
        enable = bool false;
        # a set of paths -> clients -> options is coerced to the lines of /etc/exports
        exports = opt (types.coercedTo
          (types.attrsOf (types.attrsOf (types.listOf types.str)))
          (paths: lib.concatStringsSep "\n" (lib.mapAttrsToList (path: clients:
            path + " " + lib.concatStringsSep " " (lib.mapAttrsToList
              (client: options: "${client}(${lib.concatStringsSep "," options})") clients)) paths))
          types.lines) "";
        statdPort = optional types.port;
        lockdPort = optional types.port;
        mountdPort = optional types.port;
      };

      resolved = {
        enable = bool false;
        settings = settings ini {
          Resolve = {
            DNS = opt (types.listOf types.str) config.networking.nameservers;
            FallbackDns = optional (types.listOf types.str);
            Domains = opt (types.listOf types.str) config.networking.search;
            LLMNR = opt (types.enum [ "true" "resolve" "false" ]) "true";
            DNSSEC = opt (types.enum [ "true" "allow-downgrade" "false" ]) "false";
            DNSOverTLS = opt (types.enum [ "true" "opportunistic" "false" ]) "false";
          };
        };
      };

      home-assistant = {
        enable = bool false;
        openFirewall = bool false;
        configDir = opt types.path "/var/lib/hass";
        extraComponents = opt (types.listOf types.str) [ "default_config" "met" "esphome" ];
        # home-assistant.nix at 00b9d1f7: customComponents also checks isHomeAssistantComponent,
        # which the stand-in's fake packages do not carry
        extraPackages = opt (types.functionTo (types.listOf types.package)) (_: [ ]);
        customComponents = opt (types.listOf types.package) [ ];
        customLovelaceModules = opt (types.listOf types.package) [ ];
        config = mkOption {
          type = types.nullOr (types.submodule {
            freeformType = json.type;
            options.http.server_port = opt types.port 8123;
          });
          default = null;
        };
      };

      pihole-ftl = {
        enable = bool false;
        openFirewallDNS = bool false;
        openFirewallDHCP = bool false;
        openFirewallWebserver = bool false;
        useDnsmasqConfig = bool false;
        lists = opt (types.listOf (types.submodule {
          options = {
            url = mkOption { type = types.str; };
            type = opt (types.enum [ "allow" "block" ]) "block";
            enabled = bool true;
            description = opt types.str "";
          };
        })) [ ];
        settings = settings json { };
      };
      pihole-web = {
        enable = bool false;
        hostName = opt types.str "pi.hole";
        # joined into the webserver.port text pihole-FTL reads ("80o,443os")
        ports = mkOption {
          type = types.listOf (types.oneOf [
            types.port
            types.str
            (types.submodule {
              options = {
                port = mkOption { type = types.port; };
                optional = bool false;
                redirectSSL = bool false;
                ssl = bool false;
              };
            })
          ]);
          default = [ ];
          apply = ports: lib.concatStringsSep "," (map (p:
            if builtins.isAttrs p then
              toString p.port + lib.optionalString p.optional "o"
              + lib.optionalString p.redirectSSL "r" + lib.optionalString p.ssl "s"
            else toString p) ports);
        };
      };

      postgresql = {
        enable = bool false;
        # by system.stateVersion in nixpkgs: postgresql_17 from 25.11
        package = mkOption { type = types.package; default = pkgs.postgresql_17; defaultText = "pkgs.postgresql_17"; };
        ensureDatabases = strs;
        ensureUsers = opt (types.listOf (types.submodule {
          options = {
            name = mkOption { type = types.str; };
            ensureDBOwnership = bool false;
            ensureClauses = mkOption {
              type = types.submodule {
                options = lib.genAttrs
                  [ "superuser" "createrole" "createdb" "inherit" "login" "replication" "bypassrls" ]
                  (_: optional types.bool);
              };
              default = { };
            };
          };
        })) [ ];
        authentication = lines;
        settings = mkOption {
          type = types.submodule {
            freeformType = types.attrsOf (types.oneOf [ types.bool types.float types.int types.str ]);
          };
          default = { };
        };
      };

      wiki-js = {
        enable = bool false;
        environmentFile = optional types.path;
        settings = settings json {
          port = opt types.port 3000;
          bindIP = opt types.str "0.0.0.0";
          db = {
            type = opt (types.enum [ "mysql" "postgres" "mariadb" "mssql" ]) "postgres";
            host = mkOption { type = types.str; };
            db = optional types.str;
          };
        };
      };

      jellyfin = {
        enable = bool false;
        openFirewall = bool false;
        user = opt types.str "jellyfin";
        group = opt types.str "jellyfin";
        dataDir = opt types.path "/var/lib/jellyfin";
      };

      # web-servers/caddy/default.nix at 0145c6da, vhost-options.nix at 0b8aa77d: a vhost's
      # logFormat is nullOr there (default.nix 0145c6da writes no log block for null)
      caddy = {
        enable = bool false;
        user = opt types.str "caddy";
        group = opt types.str "caddy";
        dataDir = opt types.path "/var/lib/caddy";
        logDir = opt types.path "/var/log/caddy";
        logFormat = opt types.lines "level ERROR\n";
        adapter = optional types.str;
        resume = bool false;
        openFirewall = bool false;
        email = optional types.str;
        acmeCA = optional types.str;
        httpPort = opt (types.nullOr types.port) 80;
        httpsPort = opt (types.nullOr types.port) 443;
        enableReload = bool true;
        environmentFile = optional types.path;
        globalConfig = lines;
        extraConfig = lines;
        virtualHosts = opt (types.attrsOf (types.submodule ({ name, config, ... }: {
          options = {
            hostName = opt types.str name;
            serverAliases = strs;
            listenAddresses = strs;
            useACMEHost = optional types.str;
            logFormat = opt (types.nullOr types.lines) ''
              output file ${outer.services.caddy.logDir}/access-${config.hostName}.log
            '';
            extraConfig = lines;
          };
        }))) { };
      };

      # services of the test labs' catalogue entries (their `module:` files in nixpkgs)
      prometheus.exporters.node = {
        enable = bool false;
        port = opt types.port 9100;
        listenAddress = opt types.str "0.0.0.0";
        openFirewall = bool false;
        enabledCollectors = strs;
        disabledCollectors = strs;
      };
      adguardhome = {
        enable = bool false;
        host = opt types.str "0.0.0.0";
        port = opt types.port 3000;
        openFirewall = bool false;
        mutableSettings = bool true;
        settings = mkOption {
          type = types.nullOr (types.submodule { freeformType = json.type; });
          default = null;
        };
      };
      grafana = {
        enable = bool false;
        openFirewall = bool false;
        settings = settings json { };
      };
      uptime-kuma = {
        enable = bool false;
        settings = opt (types.attrsOf types.str) { };
      };
      vaultwarden = {
        enable = bool false;
        domain = optional types.str;
        config = opt (types.attrsOf (types.nullOr (types.oneOf [ types.bool types.int types.str ]))) { };
        environmentFile = opt (types.either (types.nullOr types.path) (types.listOf types.path)) null;
      };
      dokuwiki = {
        webserver = opt (types.enum [ "nginx" "caddy" ]) "nginx";
        sites = opt (types.attrsOf (types.submodule {
          options.settings = opt (types.attrsOf types.anything) { };
        })) { };
      };

      # web-servers/nginx/default.nix at 5bba330b, vhost-options.nix at 9c571847,
      # location-options.nix at e0741f86. Not declared: a vhost's sslCertificate(Key), which
      # have no default (the module fills them in for enableACME/useACMEHost), and listen
      nginx = {
        enable = bool false;
        user = opt types.str "nginx";
        group = opt types.str "nginx";
        statusPage = bool false;
        recommendedProxySettings = bool false;
        recommendedTlsSettings = bool false;
        recommendedGzipSettings = bool false;
        recommendedOptimisation = bool false;
        recommendedBrotliSettings = bool false;
        recommendedZstdSettings = bool false;
        proxyTimeout = opt types.str "60s";
        clientMaxBodySize = opt types.str "10m";
        enableReload = bool false;
        defaultHTTPListenPort = opt types.port 80;
        defaultSSLListenPort = opt types.port 443;
        commonHttpConfig = lines;
        appendHttpConfig = lines;
        virtualHosts = opt (types.attrsOf (types.submodule {
          options = {
            serverName = optional types.str;
            serverAliases = strs;
            listenAddresses = strs;
            enableACME = bool false;
            useACMEHost = optional types.str;
            acmeRoot = opt (types.nullOr types.str) "/var/lib/acme/acme-challenge";
            acmeFallbackHost = optional types.str;
            addSSL = bool false;
            onlySSL = bool false;
            forceSSL = bool false;
            rejectSSL = bool false;
            kTLS = bool false;
            sslTrustedCertificate = optional types.path;
            http2 = bool true;
            http3 = bool true;
            http3_hq = bool false;
            quic = bool false;
            reuseport = bool false;
            root = optional types.path;
            default = bool false;
            extraConfig = lines;
            globalRedirect = optional types.str;
            basicAuth = opt (types.attrsOf types.str) { };
            basicAuthFile = optional types.path;
            locations = opt (types.attrsOf (types.submodule {
              options = {
                basicAuth = opt (types.attrsOf types.str) { };
                basicAuthFile = optional types.path;
                proxyPass = optional types.str;
                proxyWebsockets = bool false;
                index = optional types.str;
                tryFiles = optional types.str;
                root = optional types.path;
                alias = optional types.path;
                return = optional (types.oneOf [ types.str types.int ]);
                fastcgiParams = opt (types.attrsOf (types.either types.str types.path)) { };
                extraConfig = lines;
                priority = opt types.int 1000;
                recommendedProxySettings = bool outer.services.nginx.recommendedProxySettings;
              };
            })) { };
          };
        })) { localhost = { }; };
      };
    };

    # nixos/modules/services/monitoring/ups.nix: a UPS (NUT)
    power.ups = {
      enable = bool false;
      mode = opt (types.enum [ "none" "standalone" "netserver" "netclient" ]) "standalone";
      openFirewall = bool false;
      ups = opt (types.attrsOf (types.submodule {
        options = {
          driver = mkOption { type = types.str; };
          port = mkOption { type = types.str; };
          description = opt types.str "";
          directives = strs;
          maxStartDelay = optional types.int;
          shutdownOrder = opt types.int 0;
        };
      })) { };
      users = opt (types.attrsOf (types.submodule {
        options = {
          passwordFile = mkOption { type = types.str; };
          actions = strs;
          instcmds = strs;
          upsmon = optional (types.enum [ "primary" "secondary" ]);
        };
      })) { };
      upsmon = {
        enable = opt types.bool (outer.power.ups.enable
          && builtins.elem outer.power.ups.mode [ "standalone" "netserver" "netclient" ]);
        settings = opt (types.attrsOf (types.oneOf [ upsAtom (types.listOf (types.nonEmptyListOf upsAtom)) ])) { };
        monitor = opt (types.attrsOf (types.submodule ({ name, config, ... }: {
          options = {
            system = opt types.str name;
            powerValue = opt types.int 1;
            user = mkOption { type = types.str; };
            passwordFile = mkOption { type = types.str; };
            type = opt types.str "master";
          };
          # the monitoring user's password file, as nixpkgs fills it in
          config.passwordFile = lib.mkDefault outer.power.ups.users.${config.user}.passwordFile;
        }))) { };
      };
      upsd = {
        enable = opt types.bool (outer.power.ups.enable
          && builtins.elem outer.power.ups.mode [ "standalone" "netserver" ]);
        listen = opt (types.listOf (types.submodule {
          options = {
            address = mkOption { type = types.str; };
            port = opt types.port 3493;
          };
        })) [ ];
      };
    };
  };
}
