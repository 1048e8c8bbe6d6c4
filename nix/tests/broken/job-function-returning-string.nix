# expect: nixek: job must be an attribute set or a function returning one, got a function returning a string
{ nixpkgs, ... }: "make"
