# expect: nixek: duplicate step name 'test' (steps[1] and steps[2])
{
  steps = [
    { name = "build"; run = "make"; }
    { name = "test"; run = "make check"; }
    { name = "test"; run = "make installcheck"; }
  ];
}
