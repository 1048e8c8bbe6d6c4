# The seed job (docs/evaluation.md#the-seed-job), exactly as a user writes it.
{ nixpkgs, ... }: {
  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.rustup pkgs.git ];
  };
  steps = [
    { name = "build"; run = "cargo build --release"; }
    { name = "test"; run = "cargo test"; }
  ];
}
