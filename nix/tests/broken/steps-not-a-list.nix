# expect: nixek: 'steps' must be a list, got an attribute set
{
  steps = { build = { run = "make"; }; };
}
