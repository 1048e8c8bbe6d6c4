# The earlier prototype's hello-world job as it wrote it: a function of { info ? "" } (called with { }) inside the
# job function, steps named in plain words.
{ nixpkgs, ... }: { info ? "" }: {
  steps = [
    { name = "Check hello"; run = "echo hello${info}"; }
  ];
}
