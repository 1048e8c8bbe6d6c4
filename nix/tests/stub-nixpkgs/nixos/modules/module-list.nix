[
  ./system/toplevel.nix
  ./system/systemd.nix
  ./system/users.nix
  ./virtualisation/build-vm.nix
  ./image/images.nix
]
