# expect: attribute 'doesNotExist' missing
{ nixpkgs, ... }: {
  machine = { pkgs, ... }: { environment.systemPackages = [ pkgs.doesNotExist ]; };
  steps = [ { name = "build"; run = "make"; } ];
}
