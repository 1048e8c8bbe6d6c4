# The nixek-ci agent on a machine, from a built agent jar: the jar the operator's image ships
# (/opt/nixek/nixek-agent.jar), run by a headless JDK 17 from the machine's nixpkgs. This is what the operator's
# evaluation and builder pods put in every machine (nix/eval.nix and nix/machine.nix take `agentJar`); nothing here
# needs the network or a hash that someone must update, unlike packages/agent.nix (Maven in the sandbox).
#
# The jar is imported into the store by its content under a fixed name, so the same jar bytes — wherever they lie and
# whatever the file is called — give the same store path, the same package and the same machine drvPath. The root
# pom fixes `project.build.outputTimestamp`, so two builds of the same sources give the same bytes.
{ runCommand, jdk17_headless, runtimeShell
  # An absolute path (a path value, or a string starting with "/") to nixek-agent.jar.
, jar
}:
let
  inJar = builtins.path { path = jar; name = "nixek-agent.jar"; };
in
runCommand "nixek-agent-jar" { } ''
  mkdir -p "$out/bin" "$out/share/nixek-agent"
  ln -s ${inJar} "$out/share/nixek-agent/nixek-agent.jar"
  # JDK_JAVA_OPTIONS (services.nixek-agent.javaOptions) is read by the java launcher itself.
  cat > "$out/bin/nixek-agent" <<'EOF'
  #!${runtimeShell}
  exec ${jdk17_headless}/bin/java -jar ${inJar} "$@"
  EOF
  chmod 0755 "$out/bin/nixek-agent"
''
