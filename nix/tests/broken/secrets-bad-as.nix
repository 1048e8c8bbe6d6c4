# expect: nixek: secrets.X.as must be "env" or "file", got 'stdin'
{ secrets = { X = { ref = "a/b"; as = "stdin"; }; }; steps = [ { name = "a"; run = "true"; } ]; }
