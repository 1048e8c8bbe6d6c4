[
  ../../../stub-nixpkgs/nixos/modules/system/toplevel.nix
  ../../../stub-nixpkgs/nixos/modules/system/systemd.nix
  ../../../stub-nixpkgs/nixos/modules/system/users.nix
  ../../../stub-nixpkgs/nixos/modules/virtualisation/build-vm.nix
  # An older release, so its images are told apart from the 25.05 stub's.
  { system.nixos.label = "24.11.stub"; system.nixos.release = "24.11"; }
]
