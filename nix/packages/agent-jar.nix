# The nixek-ci agent on a machine, from a built agent jar: the jar the operator's image ships
# (/opt/nixek/nixek-agent.jar), run by a headless JDK 17 from the machine's nixpkgs. This is what the operator's
# evaluation and builder pods put in every machine (nix/eval.nix and nix/machine.nix take `agentJar`); nothing here
# needs the network or a hash that someone must update, unlike packages/agent.nix (Maven in the sandbox).
#
# The jar is imported into the store by its content under a fixed name, so the same jar bytes — wherever they lie and
# whatever the file is called — give the same store path, the same package and the same machine drvPath. The root
# pom fixes `project.build.outputTimestamp`, so two builds of the same sources give the same bytes.
#
# Start-up: the agent runs once per machine, so its JVM start is on every job's critical path. A class-data sharing
# archive of the classes a run loads is written here, by a training run of this jar with this JDK — the JVM that
# will map it at boot, and the jar at the path it will have — so the archive can only ever match what runs it
# (bench/agent-start has the numbers). A JVM that cannot use it (a JDK without a base archive, an archive from
# another JVM) ignores it and loads classes as usual; a JDK that cannot make one here leaves the wrapper without it.
{ runCommand, jdk17_headless, runtimeShell
  # An absolute path (a path value, or a string starting with "/") to nixek-agent.jar.
, jar
}:
let
  inJar = builtins.path { path = jar; name = "nixek-agent.jar"; };
  java = "${jdk17_headless}/bin/java";
in
runCommand "nixek-agent-jar" { } ''
  mkdir -p "$out/bin" "$out/share/nixek-agent"
  ln -s ${inJar} "$out/share/nixek-agent/nixek-agent.jar"
  jsa="$out/share/nixek-agent/nixek-agent.jsa"
  if [ -x ${java} ]; then
    # the training run: one step and a report API that is not there (the sandbox has no network); the agent
    # gives up on its reports after a second and exits, and the JVM writes the archive as it exits
    mkdir -p "$TMPDIR/train"
    cat > "$TMPDIR/train/config.json" <<'JSON'
  {"version": "nixek.dev/agent-config/v1", "jobUid": "00000000-0000-0000-0000-000000000000", "namespace": "nixek",
   "name": "cds-training", "reportUrl": "http://127.0.0.1:9", "token": "nxkjt_training",
   "steps": [{"name": "training", "run": "true"}], "poweroff": false}
  JSON
    ${java} -XX:ArchiveClassesAtExit="$jsa" -jar ${inJar} --config "$TMPDIR/train/config.json" \
      --work-dir "$TMPDIR/train/work" --drain-timeout-seconds 1 >"$TMPDIR/train/log" 2>&1 || true
    # -Xshare:on: fail rather than ignore an archive this JVM cannot map for this jar
    if ! ${java} -XX:SharedArchiveFile="$jsa" -Xshare:on -cp ${inJar} -version >/dev/null 2>&1; then
      echo "nixek-agent: no usable class-data sharing archive; the agent starts without one" >&2
      cat "$TMPDIR/train/log" >&2 || true
      rm -f "$jsa"
    fi
  fi
  opts=
  if [ -x ${java} ]; then
    # C1 only: the agent spends its life waiting on steps and sockets; C2's compilations only compete with the
    # first step for the CPU
    opts="-XX:TieredStopAtLevel=1 "
  fi
  if [ -f "$jsa" ]; then opts="$opts-XX:SharedArchiveFile=$jsa "; fi
  # JDK_JAVA_OPTIONS (services.nixek-agent.javaOptions) is read by the java launcher itself.
  cat > "$out/bin/nixek-agent" <<EOF
  #!${runtimeShell}
  exec ${java} $opts-jar ${inJar} "\$@"
  EOF
  chmod 0755 "$out/bin/nixek-agent"
''
