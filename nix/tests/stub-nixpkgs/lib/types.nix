# Option types for the offline stub, with nixpkgs' names and merge rules for the cases nix/ uses.
lib:
let
  inherit (builtins)
    all
    attrNames
    concatMap
    concatStringsSep
    elem
    filter
    head
    isAttrs
    isBool
    isFloat
    isFunction
    isInt
    isList
    isPath
    isString
    length
    ;

  showLoc = lib.showLoc;

  mkOptionType = { name, description ? name, check ? (_: true), merge ? mergeDefault, ... }@attrs:
    attrs // { _type = "option-type"; inherit name description check merge; };

  mergeEqual = loc: defs:
    let
      first = head defs;
    in
    builtins.foldl'
      (acc: d:
        if d.value == first.value then acc
        else throw "The option `${showLoc loc}' has conflicting definition values: in ${first.file} and in ${d.file}.")
      first.value
      defs;

  mergeOne = loc: defs: if length defs == 1 then (head defs).value else mergeEqual loc defs;

  # nixpkgs' mergeDefaultOption: lists concatenate, attribute sets update, booleans or, else equal.
  mergeDefault = loc: defs:
    let
      values = map (d: d.value) defs;
    in
    if length defs == 1 then head values
    else if all isList values then concatMap (x: x) values
    else if all (v: isAttrs v && !(lib.isDerivation v)) values then builtins.foldl' (a: b: a // b) { } values
    else if all isBool values then builtins.any (x: x) values
    else mergeEqual loc defs;

  # `anything`: attribute sets merge attribute by attribute, lists concatenate, other values must agree.
  mergeAnything = loc: defs:
    let
      values = map (d: d.value) defs;
      plain = v: isAttrs v && !(v ? _type) && !(lib.isDerivation v) && !(v ? outPath);
    in
    if length defs == 1 && !(plain (head values)) then head values
    else if all plain values then
      lib.genAttrs (lib.uniqueStrings (concatMap attrNames values)) (n:
        (lib.mergeDefinitions (loc ++ [ n ]) types.anything
          (concatMap (d: if d.value ? ${n} then [ { inherit (d) file; value = d.value.${n}; } ] else [ ]) defs)).value)
    else if all isList values then concatMap (x: x) values
    else mergeEqual loc defs;

  isStringLike = x: isString x || isPath x || (isAttrs x && x ? outPath);

  types = rec {
    inherit mkOptionType;

    unspecified = mkOptionType { name = "unspecified"; };
    raw = mkOptionType { name = "raw"; merge = mergeOne; };
    anything = mkOptionType { name = "anything"; merge = mergeAnything; };
    attrs = mkOptionType { name = "attrs"; check = isAttrs; merge = loc: defs: builtins.foldl' (a: d: a // d.value) { } defs; };
    bool = mkOptionType { name = "bool"; description = "boolean"; check = isBool; merge = mergeEqual; };
    int = mkOptionType { name = "int"; description = "signed integer"; check = isInt; merge = mergeEqual; };
    ints = {
      positive = mkOptionType { name = "positiveInt"; description = "positive integer, meaning >0"; check = x: isInt x && x > 0; merge = mergeEqual; };
      unsigned = mkOptionType { name = "unsignedInt"; description = "unsigned integer, meaning >=0"; check = x: isInt x && x >= 0; merge = mergeEqual; };
    };
    port = mkOptionType { name = "port"; description = "16 bit unsigned integer"; check = x: isInt x && x >= 0 && x < 65536; merge = mergeEqual; };
    float = mkOptionType { name = "float"; check = isFloat; merge = mergeEqual; };
    str = mkOptionType { name = "str"; description = "string"; check = isString; merge = mergeEqual; };
    nonEmptyStr = mkOptionType { name = "nonEmptyStr"; description = "non-empty string"; check = x: isString x && x != ""; merge = mergeEqual; };
    strMatching = pattern: mkOptionType { name = "strMatching ${pattern}"; description = "string matching the pattern ${pattern}"; check = x: isString x && builtins.match pattern x != null; merge = mergeEqual; };
    lines = mkOptionType { name = "lines"; description = "strings concatenated with \"\\n\""; check = isString; merge = loc: defs: concatStringsSep "\n" (map (d: d.value) defs); };
    separatedString = sep: mkOptionType { name = "separatedString"; check = isString; merge = loc: defs: concatStringsSep sep (map (d: d.value) defs); };
    path = mkOptionType { name = "path"; check = x: isStringLike x && builtins.substring 0 1 (toString x) == "/"; merge = mergeEqual; };
    package = mkOptionType { name = "package"; check = x: lib.isDerivation x || isPath x || (isString x && builtins.substring 0 1 x == "/"); merge = mergeOne; };

    enum = values: mkOptionType {
      name = "enum";
      description = "one of ${concatStringsSep ", " (map (v: if isString v then "\"${v}\"" else toString v) values)}";
      check = x: elem x values;
      merge = mergeEqual;
    };

    nullOr = t: mkOptionType {
      name = "nullOr";
      description = "null or ${t.description}";
      check = x: x == null || t.check x;
      merge = loc: defs:
        let nonNull = filter (d: d.value != null) defs; in
        if nonNull == [ ] then null
        else if length nonNull != length defs then throw "The option `${showLoc loc}' is defined both null and not null."
        else t.merge loc nonNull;
    };

    either = a: b: mkOptionType {
      name = "either";
      description = "${a.description} or ${b.description}";
      check = x: a.check x || b.check x;
      merge = loc: defs:
        if all (d: a.check d.value) defs then a.merge loc defs
        else if all (d: b.check d.value) defs then b.merge loc defs
        else mergeEqual loc defs;
    };

    oneOf = ts: builtins.foldl' either (head ts) (builtins.tail ts);

    uniq = t: t // { merge = mergeOne; };

    functionTo = t: mkOptionType { name = "functionTo"; description = "function that evaluates to a(n) ${t.description}"; check = isFunction; merge = mergeOne; };

    listOf = t: mkOptionType {
      name = "listOf";
      description = "list of ${t.description}";
      check = isList;
      merge = loc: defs:
        concatMap
          (d: lib.imap0 (i: x: (lib.mergeDefinitions (loc ++ [ "[${toString i}]" ]) t [ { inherit (d) file; value = x; } ]).value) d.value)
          defs;
    };

    attrsWith = lazy: t: mkOptionType {
      name = if lazy then "lazyAttrsOf" else "attrsOf";
      description = "attribute set of ${t.description}";
      check = isAttrs;
      merge = loc: defs:
        let
          names = lib.uniqueStrings (concatMap (d: attrNames d.value) defs);
          mergeName = n: lib.mergeDefinitions (loc ++ [ n ]) t
            (concatMap (d: if d.value ? ${n} then [ { inherit (d) file; value = d.value.${n}; } ] else [ ]) defs);
          merged = lib.genAttrs names mergeName;
        in
        if lazy then builtins.mapAttrs (_: m: m.value) merged
        else builtins.mapAttrs (_: m: m.value) (lib.filterAttrs (_: m: m.isDefined) merged);
    };
    attrsOf = attrsWith false;
    lazyAttrsOf = attrsWith true;

    submoduleWith = { modules, specialArgs ? { }, ... }: mkOptionType {
      name = "submodule";
      description = "submodule";
      check = x: isAttrs x || isFunction x || isPath x;
      merge = loc: defs:
        (lib.evalModules {
          # As nixpkgs' `submodule` (shorthandOnlyDefinesConfig): an attribute set definition is config only.
          modules = modules ++ map (d: if isAttrs d.value then { _file = d.file; config = d.value; } else { _file = d.file; imports = [ d.value ]; }) defs;
          specialArgs = specialArgs // { name = lib.last loc; };
          prefix = loc;
        }).config;
    };
    submodule = m: submoduleWith { modules = lib.toList m; };

    deferredModule = mkOptionType {
      name = "deferredModule";
      description = "module";
      check = x: isAttrs x || isFunction x || isPath x;
      merge = loc: defs: { imports = map (d: { _file = d.file; imports = [ d.value ]; }) defs; };
    };
  };
in
types
