# The earlier prototype's should-fail job: its one step exits 1, and names say what they do.
{ nixpkgs, ... }: { info ? "" }: {
  steps = [
    { name = "This step fails"; run = "exit 1"; }
  ];
}
