# Small helpers shared by nix/lib: the `nixek: ` error convention and value descriptions for messages.
rec {
  # Every shape error the evaluation reports starts with "nixek: " and names the problem and its place.
  fail = message: throw "nixek: ${message}";

  # "a string", "an attribute set", ... as used in "<what> must be X, got <describe value>".
  describe = v:
    if v == null then "null"
    else if builtins.isString v then "a string"
    else if builtins.isInt v then "an integer"
    else if builtins.isFloat v then "a float"
    else if builtins.isBool v then "a boolean"
    else if builtins.isList v then "a list"
    else if builtins.isFunction v then "a function"
    else if builtins.isPath v then "a path"
    else if builtins.isAttrs v && (v.type or null) == "derivation" then "a derivation"
    else if builtins.isAttrs v then "an attribute set"
    else builtins.typeOf v;

  # A short rendering of small scalars, to quote what was given ("got -1", "got a list").
  show = v:
    if builtins.isInt v || builtins.isFloat v then toString v
    else if builtins.isBool v then (if v then "true" else "false")
    else if builtins.isString v && builtins.stringLength v <= 40 then "'${v}'"
    else describe v;

  isModule = m: builtins.isFunction m || builtins.isPath m || (builtins.isAttrs m && (m.type or null) != "derivation");
}
