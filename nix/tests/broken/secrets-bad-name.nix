# expect: nixek: secrets has an invalid name '1X'
{ secrets = { "1X" = "a/b"; }; steps = [ { name = "a"; run = "true"; } ]; }
