# The stub nixpkgs as it looked before 25.05: no nixos/modules/image/images.nix, so no
# `system.build.images`; images come from importing nixos/maintainers/scripts/ec2/amazon-image.nix.
import ../stub-nixpkgs
