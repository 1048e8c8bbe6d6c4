# expect: because the option 'allow-import-from-derivation' is disabled
# A job whose steps come from a derivation built during evaluation (import from derivation): refused unless the
# operator allows it (NIXEK_EVAL_ALLOW_IMPORT_FROM_DERIVATION). The derivation needs nothing but /bin/sh.
{ nixpkgs, ... }:
import (derivation {
  name = "nixek-ifd-steps";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo '{ steps = [ { name = \"built during evaluation\"; run = \"true\"; } ]; }' > $out" ];
})
