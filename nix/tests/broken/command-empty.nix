# expect: nixek: steps[0] ('build') 'command' is empty
{ steps = [ { name = "build"; command = [ ]; } ]; }
