# A stand-in for nixpkgs' `pkgs` in tests that evaluate modules with the real module system
# (tests/modulesystem.py). Nothing here builds: packages are fake derivations (the
# `type = "derivation"` that `types.package` asks for, a name and an outPath), builders
# return such derivations, and `pkgs.formats.*` give value types shaped like nixpkgs' own
# (pkgs/pkgs-lib/formats.nix). `path`: a folder laid out like nixpkgs where home-manager
# reads it: `lib/` (nixpkgs' lib) and `nixos/modules/misc/{assertions,meta}.nix` (this
# folder's stand-ins).
#
# `packages`: attribute paths ("htop", "python3Packages.requests") to fake; a package's
# name is "pkgs.<path>", so tests read `pkgs.htop` back.
{ lib, path, packages ? [ ] }:
let
  fake = name: {
    type = "derivation";
    inherit name;
    pname = name;
    version = "0";
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
    drvPath = "/nix/store/00000000000000000000000000000000-${name}.drv";
    outputs = [ "out" ];
    meta = { description = "stand-in for ${name}"; };
    passthru = { };
    override = _: fake name;
    overrideAttrs = _: fake name;
  };
  package = path: fake "pkgs.${path}";

  # one nested set per package path: pkgs.python3Packages is a package that also holds
  # .requests, as in nixpkgs
  tree = lib.foldl' (acc: path:
    let
      parts = lib.splitString "." path;
      prefixes = lib.genList (i: lib.take (i + 1) parts) (builtins.length parts);
    in
    lib.foldl' (a: p:
      lib.recursiveUpdate a (lib.setAttrByPath p (package (lib.concatStringsSep "." p)))
    ) acc prefixes
  ) { } packages;

  # what home-manager forces while it evaluates a user (its defaults and module types)
  forced = map package [
    "bashInteractive"
    "man"
    "shared-mime-info"
    "nix"
    "shadow"
    "systemd"
    "coreutils"
    "git"
    "bash"
    "zsh"
    "fish"
    "nushell"
    "starship"
    "tmux"
    "neovim"
    "neovim-unwrapped"
    "vim"
    "htop"
    "btop"
    "direnv"
    "nix-direnv"
    "fzf"
    "zoxide"
    "eza"
    "bat"
    "ripgrep"
    "fd"
    "jq"
    "atuin"
    "helix"
    "kitty"
    "alacritty"
    "gh"
    "lazygit"
    "delta"
    "openssh"
    "gnupg"
    "yazi"
    "carapace"
    "zellij"
    "less"
    "glibcLocales"
    "nix-zsh-completions"
    # the defaults of NixOS options tests/nixos-options/ declares (mkPackageOption's)
    "transmission_4"
    "postgresql_17"
  ];

  # (types spelled out: `path` is the argument here)
  inherit (lib) types;
  json =
    let
      value = types.nullOr (types.oneOf [ types.bool types.int types.float types.str types.path
        (types.attrsOf value) (types.listOf value) ]) // { description = "JSON value"; };
    in
    value;
  atom = types.nullOr (types.oneOf [ types.bool types.int types.float types.str types.path ]);
  atomOrList = types.either atom (types.listOf atom);
  format = type: {
    inherit type;
    generate = name: _value: fake name;
    lib.types = { inherit atom; };
  };
in
tree
// lib.listToAttrs (map (p: lib.nameValuePair (lib.removePrefix "pkgs." p.name) p) forced)
// {
  inherit lib;
  inherit path;
  system = "x86_64-linux";
  stdenv = {
    hostPlatform = {
      system = "x86_64-linux";
      isLinux = true;
      isDarwin = false;
      isx86_64 = true;
      isAarch64 = false;
    };
    isLinux = true;
    isDarwin = false;
  };
  buildEnv = args: fake args.name;
  # programs.neovim
  wrapNeovimUnstable = _neovim: _args:
    let wrapped = fake "neovim" // { luaRcContent = ""; overrideAttrs = _: wrapped; }; in wrapped;
  neovimUtils = {
    makeVimPackageInfo = _plugins: { pluginPython3Packages = [ ]; };
    packDir = _dirs: fake "vim-pack-dir";
  };
  symlinkJoin = args: fake args.name;
  writeTextFile = args: fake args.name;
  runCommand = name: _env: _script: fake name;
  runCommandLocal = name: _env: _script: fake name;
  writeText = name: _text: fake name;
  writeTextDir = name: _text: fake name;
  writeScript = name: _text: fake name;
  writeShellScript = name: _text: fake name;
  writeShellScriptBin = name: _text: fake name;
  formats = {
    json = _: format json;
    yaml = _: format json;
    yaml_1_1 = _: format json;
    yaml_1_2 = _: format json;
    toml = _: format json;
    ini = _: format (lib.types.attrsOf (lib.types.attrsOf atomOrList));
    iniWithGlobalSection = _: format (lib.types.attrsOf lib.types.anything);
    keyValue = _: format (lib.types.attrsOf atomOrList);
    javaProperties = _: format (lib.types.attrsOf lib.types.str);
    lua = _: format json;
    xml = _: format json;
  };
}
