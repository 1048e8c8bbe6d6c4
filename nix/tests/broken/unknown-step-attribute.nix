# expect: nixek: steps[0] ('build') has unknown attribute 'timeout'
{ steps = [ { name = "build"; run = "make"; timeout = 60; } ]; }
