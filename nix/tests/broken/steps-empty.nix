# expect: nixek: 'steps' is empty
{ steps = [ ]; }
