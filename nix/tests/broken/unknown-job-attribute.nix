# expect: nixek: job has unknown attribute 'step'
{ step = [ { name = "build"; run = "make"; } ]; }
