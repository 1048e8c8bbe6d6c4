# expect: The option `systemd.services.build-cache.serviceconfig' does not exist
{ nixpkgs, ... }: {
  machine = { ... }: { systemd.services.build-cache.serviceconfig.ExecStart = "/bin/true"; };
  steps = [ { name = "build"; run = "make"; } ];
}
