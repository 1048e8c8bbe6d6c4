# expect: nixek: steps[0] ('build') has neither 'run' nor 'command'
{ steps = [ { name = "build"; } ]; }
