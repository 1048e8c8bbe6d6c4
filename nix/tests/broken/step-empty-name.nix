# expect: nixek: steps[0] 'name' must be a non-empty string, got ''
{ steps = [ { name = ""; run = "make"; } ]; }
