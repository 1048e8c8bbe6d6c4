# Secrets by name and ref only (docs/secrets.md): the job's for every step, a step's own winning per name.
{ secrets = { DEPLOY_KEY = "deploy/key"; CERT = { ref = "tls/cert.pem"; as = "file"; }; };
  steps = [ { name = "a"; run = "true"; } { name = "b"; run = "true"; secrets = { DEPLOY_KEY = "other/k"; X = "x/y"; }; } ]; }
