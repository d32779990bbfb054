# The option index, as raw facts of nixpkgs' lib: every option of an evaluated option tree,
# walked as the manual's options.json walks it (lib.optionAttrSetToDocList, nixpkgs lib of
# 2026-06), but with each type kept as a structure (name, description, enum values,
# pattern, nested types) rather than only its text. homelab.optionindex.read turns the
# JSON into the model.
#
# Called with lib and the `options` of lib.evalModules (a nixosSystem's, or a test's);
# `config`: its config (for the reasons of removed options; { }: none given); `home`:
# home-manager's per-user options, for NixOS with home-manager imported
# `options.home-manager.users.type.getSubOptions [ ]` (null: none; the `<name>` of the
# user its paths start with is left out); `homeConfig`: one user's config, for the
# reasons of removed home-manager options ({ }: none given); `users`: each user's own
# option tree (`<user>.configuration.options`, paths under home-manager.users.<user>),
# which holds the options of the modules that user imports too.
#
# Nothing here may throw: defaults, examples and descriptions of options that cannot be
# shown are left out (builtins.tryEval), never forced into an error.
{ lib, options, config ? { }, home ? null, homeConfig ? { }, users ? [ ] }:
let
  inherit (builtins) tryEval isAttrs isList isString typeOf;

  try = v: let r = tryEval v; in if r.success then r.value else null;

  # a value shown as Nix text, as the manual shows it (defaultText / literalExpression as
  # written); null when it cannot be shown without an error
  show = v:
    try (
      let r = lib.options.renderOptionValue v; in
      if isString (r.text or null) then r.text else null
    );

  containers = [ "listOf" "attrsOf" "lazyAttrsOf" "either" "nullOr" "coercedTo" "functionTo"
    "submodule" "uniq" "unique" "attrTag" "loaOf" "attrListOf" "addCheck" ];

  scalar = v: builtins.elem (typeOf v) [ "string" "int" "float" "bool" "null" ];

  # a type as data; depth guards against a type that nests itself
  typeOf' = depth: t:
    let
      nested = try (t.nestedTypes or { });
      payload = try (t.functor.payload or null);
      name = try (t.name or "unspecified");
      values = if isAttrs payload && isList (payload.values or null)
        then builtins.filter scalar payload.values else null;
      # attrTag's nested are options, the others' types
      sub = _: v: try (
        if isAttrs v && v._type or null == "option" then typeOf' (depth + 1) (v.type or { })
        else if isAttrs v && v._type or null == "option-type" then typeOf' (depth + 1) v
        else null);
    in
    if depth > 8 || !(isAttrs t) then { name = "unspecified"; }
    else
      {
        inherit name;
        # a container's words are made of its parts' (a recursive type's would not
        # end): only an option's own type and the leaves say theirs
        description = if depth == 0 || !(builtins.elem name containers)
          then try (t.description or null) else null;
      }
      // lib.optionalAttrs (values != null) { inherit values; }
      // lib.optionalAttrs (isAttrs payload && isString (payload.pattern or null)) {
        inherit (payload) pattern;
      }
      // lib.optionalAttrs (isAttrs nested && nested != { }) {
        nested = lib.filterAttrs (_: v: v != null) (lib.mapAttrs sub nested);
      };

  # mkRemovedOptionModule's shape (lib/modules.nix): hidden, no description, type,
  # default or example, and an `apply` that throws. Only such an option's apply is
  # called: another's might fail in a way tryEval cannot catch.
  isRemoved = opt:
    opt.visible or true == false
    && opt.description or null == null
    && !(opt ? default) && !(opt ? example)
    && (try (opt.type.name or "unspecified")) == "unspecified"
    && opt ? apply
    && !(tryEval (opt.apply null)).success;

  # The reason mkRemovedOptionModule gives is in the assertion it adds (its `apply` only
  # throws it): "The option definition `a.b' in ... no longer has any effect; please
  # remove it.\n<reason>\n"
  removedReasons = config:
    let
      assertions = config.assertions or [ ];
      all = try (builtins.length assertions);
      messages = if all == null then [ ] else
        builtins.filter isString (map (a: try (a.message or null)) assertions);
      parse = m:
        let found = builtins.match "The option definition `([^']*)' in .* no longer has any effect; please remove it\\.\n(.*)" m;
        in if found == null then null else {
          name = builtins.head found;
          value = (lib.trim or lib.id) (builtins.elemAt found 1);
        };
    in
    builtins.listToAttrs (builtins.filter (x: x != null) (map parse messages));

  # a home-manager option's path inside the user: without home-manager.users.<user>, or
  # the `<name>` getSubOptions puts first
  inside = loc:
    if lib.take 2 loc == [ "home-manager" "users" ] && builtins.length loc > 3 then lib.drop 3 loc
    else if loc != [ ] && builtins.head loc == "<name>" then builtins.tail loc
    else loc;

  doc = strip: reasons: opt:
    let
      loc = if strip then inside opt.loc else opt.loc;
      name = lib.showOption loc;
      removed = isRemoved opt;
    in
    {
      inherit loc;
      type = if opt ? type then typeOf' 0 opt.type else { name = "unspecified"; };
      description = try (
        let d = opt.description or null; in
        if isAttrs d then d.text or null else d
      );
      declarations = try (map toString (builtins.filter (x: x != "<unknown-file>") (opt.declarations or [ ])));
      readOnly = try (opt.readOnly or false);
      internal = try (opt.internal or false);
      visible = try (opt.visible or true);
    }
    // lib.optionalAttrs removed { removed = reasons.${name} or ""; }
    // lib.optionalAttrs (!removed && (opt ? defaultText || opt ? default)) {
      default = show (opt.defaultText or opt.default);
    }
    // lib.optionalAttrs (opt ? example) { example = show opt.example; };

  # every option, then the options of its submodules (`<name>`, `*`), as the manual walks
  # them: not into an option hidden from the docs (visible = false / "shallow"), which is
  # where lib's own walk would recurse without end
  walk = strip: reasons: tree:
    lib.concatMap (
      opt:
      let
        visible = opt.visible or true;
        deeper = if builtins.isBool visible then visible else visible == "transparent";
        subs = if deeper then try (opt.type.getSubOptions opt.loc) else null;
        inner = if isAttrs subs && subs != { } then walk strip reasons subs else [ ];
      in
      [ (doc strip reasons opt) ] ++ inner
    ) (options' tree);

  # lib.collect lib.isOption, but an option whose declaration throws when read (a type
  # built from a package the evaluation lacks) is left out, not an error
  options' = tree:
    lib.concatMap (
      name:
      let
        v = tree.${name};
        kind = try (if !(isAttrs v) then "none" else if lib.isOption v then "option" else "tree");
      in
      if name == "_module" || kind == null || kind == "none" then [ ]
      else if kind == "option" then [ v ]
      else options' v
    ) (builtins.attrNames tree);
in
{
  nixos = walk false (removedReasons config) options;
  home =
    let
      reasons = removedReasons homeConfig;
      all = (if home == null then [ ] else walk true reasons home)
        ++ lib.concatMap (walk true reasons) users;
    in
    # once each: the users share most options (the first found is kept)
    builtins.attrValues (builtins.listToAttrs (map (o: {
      name = lib.showOption o.loc;
      value = o;
    }) all));
}
