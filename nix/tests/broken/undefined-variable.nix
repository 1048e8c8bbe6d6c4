# expect: undefined variable 'makeFlags'
{ nixpkgs, ... }: {
  steps = [ { name = "build"; run = "make ${makeFlags}"; } ];
}
