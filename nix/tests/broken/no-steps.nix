# expect: nixek: job has no attribute 'steps'
{ nixpkgs, ... }: {
  machine = { pkgs, ... }: { environment.systemPackages = [ pkgs.git ]; };
}
