# expect: nixek: steps[0] ('build') 'run' must be a string, got a list
{ steps = [ { name = "build"; run = [ "make" ]; } ]; }
