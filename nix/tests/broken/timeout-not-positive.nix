# expect: nixek: steps[0] ('build') 'timeoutSeconds' must be a positive integer, got -1
{ steps = [ { name = "build"; run = "make"; timeoutSeconds = -1; } ]; }
