# expect: must not be root
{ nixpkgs, ... }: {
  machine = { ... }: { services.nixek-agent.settings.run-as = "root"; };
  steps = [ { name = "build"; run = "make"; } ];
}
