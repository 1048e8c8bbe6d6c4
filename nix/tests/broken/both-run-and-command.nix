# expect: nixek: steps[0] ('build') has both 'run' and 'command'
{ steps = [ { name = "build"; run = "make"; command = [ "make" ]; } ]; }
