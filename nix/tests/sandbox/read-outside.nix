# expect: access to absolute path '/etc' is forbidden in restricted mode
# A job whose evaluation reads a file of the pod (or of the operator's host, evaluated locally) outside what the
# evaluation is given: nix/, the job's own directory, the agent jar and a nixpkgs path.
{ nixpkgs, ... }: {
  steps = [ { name = "leak"; run = builtins.readFile /etc/hostname; } ];
}
