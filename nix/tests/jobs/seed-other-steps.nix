# Another job on the seed's machine (same module, written out again): it must get the seed's image.
{ nixpkgs, ... }: {
  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.rustup pkgs.git ];
  };
  steps = [
    { name = "lint"; run = "cargo clippy -- -D warnings"; timeoutSeconds = 600; }
  ];
}
