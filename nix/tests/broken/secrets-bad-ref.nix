# expect: nixek: steps[0] ('a') secrets.X must name a Secret and key as "secret-name/key", got 'noslash'
{ steps = [ { name = "a"; run = "true"; secrets = { X = "noslash"; }; } ]; }
