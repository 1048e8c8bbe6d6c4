# A job bringing its own nixpkgs for the machine (here: the pre-25.05 stub), overriding the evaluation's.
{ nixpkgs, ... }: {
  nixpkgs = ../stub-nixpkgs-legacy;
  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.rustup pkgs.git ];
  };
  steps = [ { name = "build"; run = "cargo build --release"; } ];
}
