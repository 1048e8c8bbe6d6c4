# expect: nixek: steps[0] 'name' is not a step name: more than 100 characters (101)
{ steps = [ { name = "ü${builtins.concatStringsSep "" (builtins.genList (_: "a") 100)}"; run = "true"; } ]; }
