# A small NixOS-style module system for the offline stub. It keeps the parts whose behaviour nix/ depends on:
# imports (deduplicated by file), option declarations with types and defaults, mkIf/mkMerge/mkOverride
# (conditions pushed down without being evaluated, so `config` can be used inside them), submodules,
# freeform regions (undeclared options are accepted where a module says `freeformType`) and extendModules.
# Not covered: option renames, disabledModules, mkOrder ordering, `options` values with `.value`.
lib:
let
  inherit (builtins)
    all
    attrNames
    concatMap
    concatStringsSep
    elem
    filter
    foldl'
    genericClosure
    head
    intersectAttrs
    isAttrs
    isBool
    isFunction
    isPath
    isString
    length
    listToAttrs
    mapAttrs
    ;

  showLoc = loc: concatStringsSep "." loc;

  mkOption = attrs: attrs // { _type = "option"; };
  isOption = x: isAttrs x && (x._type or null) == "option";
  mkEnableOption = name: mkOption {
    type = lib.types.bool;
    default = false;
    description = "Whether to enable ${name}.";
  };
  mkPackageOption = pkgs: name: extra: mkOption ({
    type = lib.types.package;
    default = pkgs.${name};
  } // removeAttrs extra [ "default" ]);

  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkOptionDefault = mkOverride 1500;
  mkDefault = mkOverride 1000;
  mkForce = mkOverride 50;
  mkOrder = priority: content: { _type = "order"; inherit priority content; };
  mkBefore = mkOrder 500;
  mkAfter = mkOrder 1500;

  # A definition that no module defines (every mkIf false): reading it gives this marker, which the stub's
  # toplevel skips. Real NixOS throws "used but not defined" instead.
  undefined = { _type = "undefined"; };
  isUndefined = x: isAttrs x && (x._type or null) == "undefined";

  isPlainAttrs = x: isAttrs x && !(x ? _type) && (x.type or null) != "derivation" && !(x ? outPath);

  # Push mkIf/mkOverride below an attribute set without evaluating conditions (nixpkgs' pushDownProperties).
  pushDown = loc: v:
    if !isAttrs v then
      throw "The option `${showLoc loc}' is an attribute set of options, but is defined as a value that is not an attribute set."
    else if (v._type or null) == "merge" then concatMap (pushDown loc) v.contents
    else if (v._type or null) == "if" then map (mapAttrs (_: x: mkIf v.condition x)) (pushDown loc v.content)
    else if (v._type or null) == "override" then map (mapAttrs (_: x: mkOverride v.priority x)) (pushDown loc v.content)
    else if (v._type or null) == "order" then pushDown loc v.content
    else [ v ];

  # Evaluate conditions and strip properties; each result carries its priority (nixpkgs' dischargeProperties).
  discharge = prio: v:
    if isAttrs v && (v._type or null) == "merge" then concatMap (discharge prio) v.contents
    else if isAttrs v && (v._type or null) == "if" then
      (if !isBool v.condition then throw "mkIf called with a non-Boolean condition"
       else if v.condition then discharge prio v.content
       else [ ])
    else if isAttrs v && (v._type or null) == "override" then discharge v.priority v.content
    else if isAttrs v && (v._type or null) == "order" then discharge prio v.content
    else [ { inherit prio; value = v; } ];

  mergeDefinitions = loc: type: defs:
    let
      discharged = concatMap (d: map (x: x // { inherit (d) file; }) (discharge 100 d.value)) defs;
      top = foldl' (m: d: if d.prio < m then d.prio else m) 100000 discharged;
      kept = filter (d: d.prio == top) discharged;
      bad = filter (d: !type.check d.value) kept;
    in
    {
      isDefined = kept != [ ];
      value =
        if kept == [ ] then throw "The option `${showLoc loc}' is used but not defined."
        else if bad != [ ] then
          throw "A definition for option `${showLoc loc}' is not of type `${type.description}'. Definition in ${(head bad).file}."
        else type.merge loc (map (d: { inherit (d) file value; }) kept);
    };

  evalOption = loc: opt: defs:
    let
      type = opt.type or lib.types.unspecified;
      withDefault = defs ++ lib.optional (opt ? default) { file = "default"; value = mkOptionDefault opt.default; };
      merged = (mergeDefinitions loc type withDefault).value;
    in
    if opt ? apply then opt.apply merged else merged;

  evalNode = ctx: loc: decl: defs:
    if isOption decl then evalOption loc decl defs
    else
      let
        pushed = concatMap (d: map (v: { inherit (d) file; value = v; }) (pushDown loc d.value)) defs;
        names = lib.uniqueStrings (attrNames decl ++ concatMap (d: attrNames d.value) pushed);
        sub = n: concatMap (d: if d.value ? ${n} then [ { inherit (d) file; value = d.value.${n}; } ] else [ ]) pushed;
      in
      lib.genAttrs names (n:
        if decl ? ${n} then evalNode ctx (loc ++ [ n ]) decl.${n} (sub n)
        else if ctx.freeform then evalFreeform ctx (loc ++ [ n ]) (sub n)
        else throw "The option `${showLoc (loc ++ [ n ])}' does not exist. Definition in ${(head (sub n)).file}.");

  # Undeclared option in a freeform region: a set of definitions that are all attribute sets is a subtree,
  # anything else is a value merged like `types.anything`.
  evalFreeform = ctx: loc: defs:
    let
      shape = v:
        if isAttrs v && elem (v._type or null) [ "if" "override" "order" ] then shape v.content
        else if isAttrs v && (v._type or null) == "merge" then all shape v.contents
        else isPlainAttrs v;
      merged = mergeDefinitions loc lib.types.anything defs;
    in
    if defs != [ ] && all (d: shape d.value) defs then evalNode ctx loc { } defs
    else if merged.isDefined then merged.value
    else undefined;

  mergeDecls = loc: a: b:
    a // mapAttrs (n: v:
      if !(a ? ${n}) then v
      else if isOption v || isOption a.${n} then throw "The option `${showLoc (loc ++ [ n ])}' is declared twice."
      else mergeDecls (loc ++ [ n ]) a.${n} v) b;

  # Call a module function with the arguments it names (all of them for `args:` or `{ ... }:`).
  callModule = f: args:
    let
      wanted = builtins.functionArgs f;
    in
    f (if wanted == { } then args else intersectAttrs wanted args);

  moduleKey = parent: i: m:
    if isPath m || isString m then toString m
    else if isAttrs m && m ? key then toString m.key
    else "${parent}:anon-${toString i}";

  normalise = args: file: m:
    let
      isFile = isPath m || isString m;
      m1 = if isFile then import m else m;
      file' = if isFile then toString m else file;
      m2 = if isFunction m1 then callModule m1 args else m1;
      structured = m2 ? config || m2 ? options;
    in
    {
      file = m2._file or file';
      imports = m2.imports or [ ];
      options = m2.options or { };
      freeform = m2 ? freeformType;
      config =
        if structured then m2.config or { }
        else removeAttrs m2 [ "imports" "_file" "key" "disabledModules" "meta" "freeformType" "_class" ];
    };

  evalModules = { modules, specialArgs ? { }, prefix ? [ ] }:
    let
      item = parent: i: m: rec {
        key = moduleKey parent i m;
        module = normalise args (if isString key then key else "<unknown>") m;
      };
      collected = map (x: x.module) (genericClosure {
        startSet = lib.imap0 (item "<root>") modules;
        operator = x: lib.imap0 (item x.key) x.module.imports;
      });
      decls = foldl' (mergeDecls prefix) { } (map (m: m.options) collected);
      ctx.freeform = builtins.any (m: m.freeform) collected;
      config = evalNode ctx prefix decls (map (m: { inherit (m) file; value = m.config; }) collected);
      args = specialArgs // {
        inherit config lib extendModules;
        options = decls;
      };
      extendModules = { modules ? [ ], specialArgs ? { } }@ext: evalModules {
        modules = (extendArgs.modules) ++ ext.modules or [ ];
        specialArgs = extendArgs.specialArgs // ext.specialArgs or { };
        inherit prefix;
      };
      extendArgs = { inherit modules specialArgs; };
    in
    {
      inherit config extendModules;
      options = decls;
      type = "configuration";
    };
in
{
  inherit
    evalModules
    isOption
    isUndefined
    mergeDefinitions
    mkAfter
    mkBefore
    mkDefault
    mkEnableOption
    mkForce
    mkIf
    mkMerge
    mkOption
    mkOptionDefault
    mkOrder
    mkOverride
    mkPackageOption
    showLoc
    ;
  showOption = showLoc;
}
