# expect: nixek: job must be an attribute set or a function returning one, got a list
[ { name = "build"; run = "make"; } ]
