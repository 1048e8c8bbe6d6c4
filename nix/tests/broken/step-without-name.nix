# expect: nixek: steps[1] has no 'name'
{
  steps = [ { name = "build"; run = "make"; } { run = "make check"; } ];
}
