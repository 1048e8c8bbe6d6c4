# expect: access to URI 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' is forbidden in restricted mode
# A job whose evaluation reads the instance metadata endpoint (a node's cloud credentials): the evaluation runs with
# restrict-eval, and allowed-uris never names it (docs/evaluation.md#the-sandbox).
{ nixpkgs, ... }: {
  steps = [
    { name = "leak"; run = builtins.readFile (builtins.fetchurl "http://169.254.169.254/latest/meta-data/iam/security-credentials/"); }
  ];
}
