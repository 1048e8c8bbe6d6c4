# expect: nixek: steps[0] ('build') 'env' has an invalid variable name 'MAKE-FLAGS'
{ steps = [ { name = "build"; run = "make"; env = { "MAKE-FLAGS" = "-j4"; }; } ]; }
