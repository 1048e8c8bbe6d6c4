# expect: syntax error
{ nixpkgs, ... }: {
  steps = [ { name = "build"; run = "make" } ];
}
