import ../../../../../stub-nixpkgs/nixos/maintainers/scripts/ec2/amazon-image.nix
