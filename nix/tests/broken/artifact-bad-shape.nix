# expect: nixek: steps[0] ('build') 'artifacts[0]' must be { name = "..."; paths = [ "glob" ... ]; }
{ steps = [ { name = "build"; run = "make"; artifacts = [ { name = "dist"; path = "dist/x"; } ]; } ]; }
