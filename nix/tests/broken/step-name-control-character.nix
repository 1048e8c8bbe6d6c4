# expect: nixek: steps[1] 'name' is not a step name: control character U+0009 at character 6
{ nixpkgs, ... }: { info ? "" }: {
  steps = [
    { name = "Check hello"; run = "echo hello"; }
    { name = "Check\thello"; run = "echo hello"; }
  ];
}
