# The earlier prototype's shape: a plain attribute set (no function), argv steps, env, timeouts, no machine.
{
  steps = [
    { name = "hello"; command = [ "echo" "hello" "world" ]; }
    { name = "env"; command = [ "sh" "-c" "echo $GREETING" ]; env = { GREETING = "hi"; }; timeoutSeconds = 30; }
    { name = "script"; run = "echo done"; timeoutSeconds = 5; }
  ];
}
