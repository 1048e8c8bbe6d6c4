# A stand-in for nixpkgs' `lib`, for offline tests only: the functions nix/ uses, with the same names and
# meaning, plus a small module system (./modules.nix) and types (./types.nix). No nixpkgs exists offline.
let
  inherit (builtins)
    attrNames
    concatStringsSep
    elem
    filter
    foldl'
    genList
    isAttrs
    length
    listToAttrs
    replaceStrings
    stringLength
    substring
    ;

  trivial = rec {
    id = x: x;
    const = x: _: x;
    fakeHash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    fakeSha256 = "0000000000000000000000000000000000000000000000000000";
    release = "25.05";
    versionAtLeast = a: b: builtins.compareVersions a b >= 0;
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: xs: if c then xs else [ ];
    optionalString = c: s: if c then s else "";
    optionalAttrs = c: a: if c then a else { };
    imap0 = f: list: genList (i: f i (builtins.elemAt list i)) (length list);
    sublist = start: count: list:
      let
        len = length list;
        n = if start >= len then 0 else if start + count > len then len - start else count;
      in
      genList (i: builtins.elemAt list (start + i)) n;
    last = list: builtins.elemAt list (length list - 1);
    flatten = x: if builtins.isList x then builtins.concatMap flatten x else [ x ];
    unique = foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];
    uniqueStrings = list: attrNames (listToAttrs (map (n: { name = n; value = null; }) list));
    nameValuePair = name: value: { inherit name value; };
    genAttrs = names: f: listToAttrs (map (n: { name = n; value = f n; }) names);
    filterAttrs = pred: set: removeAttrs set (filter (n: !pred n set.${n}) (attrNames set));
    mapAttrsToList = f: set: map (n: f n set.${n}) (attrNames set);
    concatMapStringsSep = sep: f: list: concatStringsSep sep (map f list);
    concatStrings = concatStringsSep "";
    hasPrefix = p: s: substring 0 (stringLength p) s == p;
    hasSuffix = p: s:
      let
        lp = stringLength p;
        ls = stringLength s;
      in
      ls >= lp && substring (ls - lp) lp s == p;
    removePrefix = p: s: if hasPrefix p s then substring (stringLength p) (stringLength s) s else s;
    splitString = sep: s:
      filter builtins.isString (builtins.split (replaceStrings [ "." "*" "+" "?" "[" "]" "(" ")" "|" "^" "$" "\\" ] [ "\\." "\\*" "\\+" "\\?" "\\[" "\\]" "\\(" "\\)" "\\|" "\\^" "\\$" "\\\\" ] sep) s);
    escapeShellArg = arg:
      let
        s = toString arg;
      in
      if builtins.match "[[:alnum:],._+:@%/-]+" s != null then s else "'${replaceStrings [ "'" ] [ "'\\''" ] s}'";
    escapeShellArgs = concatMapStringsSep " " escapeShellArg;
    makeBinPath = concatMapStringsSep ":" (p: "${p}/bin");
    isDerivation = x: isAttrs x && (x.type or null) == "derivation";
    recursiveUpdate = a: b:
      a // builtins.mapAttrs (n: v: if isAttrs v && isAttrs (a.${n} or null) && !(isDerivation v) then recursiveUpdate a.${n} v else v) b;
    attrByPath = path: default: set:
      if path == [ ] then set
      else if isAttrs set && set ? ${builtins.head path} then attrByPath (builtins.tail path) default set.${builtins.head path}
      else default;
    hasAttrByPath = path: set:
      path == [ ] || (isAttrs set && set ? ${builtins.head path} && hasAttrByPath (builtins.tail path) set.${builtins.head path});
    getAttrFromPath = path: set:
      attrByPath path (throw "cannot find attribute `${concatStringsSep "." path}'") set;
    toList = x: if builtins.isList x then x else [ x ];
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    literalMD = text: { _type = "literalMD"; inherit text; };
    mdDoc = x: x;
  };

  # The builtins nixpkgs' lib re-exports under the same names.
  fromBuiltins = {
    inherit (builtins)
      all any attrNames attrValues concatLists concatMap concatStringsSep elem elemAt filter foldl' genList head
      isAttrs isBool isFunction isInt isList isPath isString length listToAttrs mapAttrs replaceStrings
      stringLength substring tail toJSON typeOf;
    foldl = builtins.foldl';
    concatMapAttrs = f: set: builtins.foldl' (a: b: a // b) { } (map (n: f n set.${n}) (attrNames set));
    getExe = p: "${p}/bin/${p.meta.mainProgram or (builtins.parseDrvName p.name).name}";
  };

  lib = fromBuiltins // trivial // modules // {
    inherit trivial;
    types = import ./types.nix lib;
    strings = trivial;
    lists = trivial;
    attrsets = trivial;
    options = modules;
    platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
    maintainers = { };
    licenses.asl20 = { shortName = "asl20"; };
  };

  modules = import ./modules.nix lib;
in
lib
