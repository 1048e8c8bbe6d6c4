# expect: the job's own error
{ nixpkgs, ... }: {
  steps = [ { name = "build"; run = throw "the job's own error"; } ];
}
