# A machine on its own (NixekMachineImage.spec.machine): the seed's module.
{ pkgs, ... }: {
  environment.systemPackages = [ pkgs.rustup pkgs.git ];
}
