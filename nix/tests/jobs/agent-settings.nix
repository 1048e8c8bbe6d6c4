# A machine that tunes the agent: its command line, and so the image, change.
{ nixpkgs, ... }: {
  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.rustup pkgs.git ];
    services.nixek-agent.settings.kill-grace-seconds = 30;
    services.nixek-agent.javaOptions = [ "-Xmx256m" ];
  };
  steps = [ { name = "build"; run = "cargo build --release"; } ];
}
