# expect: nixek: steps[0] 'name' is not a step name: ends with a space (U+0020)
{ steps = [ { name = "Check hello "; run = "echo hello"; } ]; }
