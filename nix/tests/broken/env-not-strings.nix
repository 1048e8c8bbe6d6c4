# expect: nixek: steps[0] ('build') 'env.JOBS' must be a string, got an integer
{ steps = [ { name = "build"; run = "make"; env = { JOBS = 4; }; } ]; }
