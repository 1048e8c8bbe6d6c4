# expect: nixek: steps[0] ('build') has neither 'run' nor 'command'
{ nixpkgs, ... }: {
  machine = { pkgs, ... }: { environment.systemPackages = [ pkgs.doesNotExist ]; };
  steps = [ { name = "build"; } ];
}
