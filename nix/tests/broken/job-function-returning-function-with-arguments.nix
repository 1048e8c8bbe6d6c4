# expect: nixek: job must be an attribute set or a function returning one, got a function returning a function that needs 'info'
{ nixpkgs, ... }: { info }: {
  steps = [ { name = "Check hello"; run = "echo ${info}"; } ];
}
