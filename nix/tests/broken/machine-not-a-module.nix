# expect: nixek: 'machine' must be a NixOS module (a function or an attribute set), got a string
{ nixpkgs, ... }: {
  machine = "rustup git";
  steps = [ { name = "build"; run = "make"; } ];
}
