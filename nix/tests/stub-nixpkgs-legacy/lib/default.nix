import ../../stub-nixpkgs/lib
