# expect: nixek: steps[0] must be an attribute set, got a string
{ steps = [ "make" ]; }
