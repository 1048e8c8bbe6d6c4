# A plain attribute set job whose machine is an attribute set module.
{
  machine = { services.openssh.enable = true; };
  steps = [ { name = "uname"; command = [ "uname" "-a" ]; } ];
}
