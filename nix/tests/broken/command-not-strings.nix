# expect: nixek: steps[0] ('build') 'command[1]' must be a string, got an integer
{ steps = [ { name = "build"; command = [ "make" 4 ]; } ]; }
