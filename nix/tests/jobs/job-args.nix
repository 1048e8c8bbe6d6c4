# A job asking for pkgs, lib and system (called with the arguments its formals name).
{ pkgs, lib, system }: {
  steps = [
    { name = "hello"; run = "${pkgs.hello}/bin/hello"; env = { SYSTEM = system; JOINED = lib.concatStringsSep "," [ "a" "b" ]; }; }
  ];
}
