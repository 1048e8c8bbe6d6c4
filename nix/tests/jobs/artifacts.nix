# A step that keeps files: artifacts pass through to the agent's step JSON as written.
{
  steps = [
    { name = "build"; run = "make"; artifacts = [ { name = "dist"; paths = [ "dist/*.tar.gz" "reports/**" ]; } ]; }
    { name = "none"; run = "true"; artifacts = [ ]; }
  ];
}
