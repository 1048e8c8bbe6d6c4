# The seed's steps on a different machine: a different image.
{ nixpkgs, ... }: {
  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.rustup pkgs.git pkgs.jq ];
  };
  steps = [
    { name = "build"; run = "cargo build --release"; }
    { name = "test"; run = "cargo test"; }
  ];
}
