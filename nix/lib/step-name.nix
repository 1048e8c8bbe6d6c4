# What a step name is: display text ("Check hello", "Build / test"), one line (no control character, no line or
# paragraph separator), at most 100 characters, no space at either end. The same rule as the CRD's pattern (NixekJobStep.NAME_PATTERN) and StepNames (operator/common), with
# the same reasons, so that a job refused here would be refused by the report API too, and the other way round.
#
#   problem :: string -> null | string    why the (non-empty) name is not a step name, or null
#
# Nix strings are bytes and its regular expressions match bytes, so characters are counted as the bytes that do not
# continue a UTF-8 sequence, and control characters are matched as their UTF-8 bytes. Nix has no escape for most of
# these bytes; JSON has, so they are made with builtins.fromJSON.
let
  inherit (builtins)
    bitAnd concatStringsSep elemAt fromJSON genList length listToAttrs split stringLength substring;

  maxCharacters = 100;

  hexDigits = "0123456789ABCDEF";
  hex4 = n: concatStringsSep "" (map (k: substring (bitAnd (n / k) 15) 1 hexDigits) [ 4096 256 16 1 ]);
  char = n: fromJSON "\"\\u${hex4 n}\"";

  # UTF-8 continuation bytes 0x80..0xBF: the second byte of U+0080..U+00BF.
  continuation = "(" + concatStringsSep "|" (genList (i: substring 1 1 (char (128 + i))) 64) + ")";
  matches = re: s: (length (split re s) - 1) / 2;
  characters = s: stringLength s - matches continuation s;

  # Unicode category Cc (C0, DEL and C1; NUL cannot be in a Nix string), and the line and paragraph separators.
  controlCodes = genList (i: i + 1) 31 ++ genList (i: i + 127) 33;
  breakCodes = [ 8232 8233 ];
  codeOf = listToAttrs (map (n: { name = char n; value = n; }) (controlCodes ++ breakCodes));
  notOneLine = "(" + concatStringsSep "|" (map char (controlCodes ++ breakCodes)) + ")";

  # Unicode category Zs (Zl and Zp are refused anywhere).
  spaceCodes = [ 32 160 5760 ] ++ genList (i: 8192 + i) 11 ++ [ 8239 8287 12288 ];
  spaces = map (n: { inherit n; s = char n; }) spaceCodes;
  firstOf = pred: list: let hits = builtins.filter pred list; in if hits == [ ] then null else elemAt hits 0;
  startsWith = p: s: substring 0 (stringLength p) s == p;
  endsWith = p: s: stringLength s >= stringLength p && substring (stringLength s - stringLength p) (stringLength p) s == p;
in
{
  inherit maxCharacters;

  problem = name:
    let
      n = characters name;
      parts = split notOneLine name;
      code = codeOf.${elemAt (elemAt parts 1) 0};
      lead = firstOf (z: startsWith z.s name) spaces;
      trail = firstOf (z: endsWith z.s name) spaces;
    in
    if n > maxCharacters then "more than ${toString maxCharacters} characters (${toString n})"
    else if length parts > 1 then
      "${if code > 255 then "line break" else "control character"} U+${hex4 code} at character ${toString (characters (elemAt parts 0) + 1)}"
    else if lead != null then "starts with a space (U+${hex4 lead.n})"
    else if trail != null then "ends with a space (U+${hex4 trail.n})"
    else null;
}
