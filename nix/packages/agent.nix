# The nixek-ci agent as a Nix package: the repo's `agent` Maven module built with `mvn -pl agent -am package`,
# installed as one runnable jar plus a `nixek-agent` wrapper that runs it on a headless JDK 17.
#
# The source is filtered to what that build reads — every pom.xml the parent lists (Maven loads the whole
# reactor even with -pl) and the sources of the agent and of the modules it depends on — so that the
# derivation, and with it every machine image's identity, changes with the agent and not with the operator.
{ lib, maven, jdk17_headless, makeWrapper }:
let
  root = ../..;
  rootString = toString root;

  # Modules compiled by `-pl agent -am`: the agent and the repo modules it depends on. Add a module here
  # when agent/pom.xml gains a dependency on it.
  sourceModules = [ "agent" "protocol" ];

  # Every module the parent pom declares (`<module>x</module>`); only their pom.xml files are needed.
  declaredModules = map builtins.head
    (builtins.filter builtins.isList (builtins.split "<module>([^<]+)</module>" (builtins.readFile (root + "/pom.xml"))));

  # All leading parts of a relative path: "operator/common" -> [ "operator" "operator/common" ].
  prefixes = rel:
    let
      parts = builtins.filter builtins.isString (builtins.split "/" rel);
    in
    builtins.genList (i: builtins.concatStringsSep "/" (lib.sublist 0 (i + 1) parts)) (builtins.length parts);

  keptDirs = builtins.listToAttrs (map (name: { inherit name; value = true; })
    (builtins.concatMap prefixes (declaredModules ++ map (m: "${m}/src") sourceModules ++ [ ".mvn" ])));
  keptPoms = builtins.listToAttrs (map (m: { name = "${m}/pom.xml"; value = true; }) declaredModules);

  inSources = rel: builtins.any (m: lib.hasPrefix "${m}/src/" rel) sourceModules || lib.hasPrefix ".mvn/" rel;

  src = builtins.path {
    path = root;
    name = "nixek-agent-source";
    filter = path: type:
      let
        rel = lib.removePrefix "${rootString}/" (toString path);
      in
      if type == "directory" then keptDirs ? ${rel} || inSources rel
      else rel == "pom.xml" || keptPoms ? ${rel} || inSources rel;
  };
in
maven.buildMavenPackage {
  pname = "nixek-agent";
  version = "0.1.0";
  inherit src;

  mvnJdk = jdk17_headless;
  mvnParameters = "-B -pl agent -am";

  # PLACEHOLDER. The hash of the Maven dependencies this build downloads cannot be computed offline. On a
  # machine with network access run `nix build .#agent`; it fails with "hash mismatch ... got: sha256-...";
  # put that value here. It changes whenever a dependency or plugin version in any pom.xml on the reactor
  # does. Evaluation (and so every machine drvPath) works with the placeholder; only building needs it.
  mvnHash = lib.fakeHash;

  nativeBuildInputs = [ makeWrapper ];

  # The agent module's shade execution writes the runnable jar (Main-Class set, dependencies inside) to this
  # fixed path (agent/pom.xml, property agent.jar).
  installPhase = ''
    runHook preInstall

    if [ ! -f agent/target/nixek-agent.jar ]; then
      echo "nixek-agent: agent/target/nixek-agent.jar was not built; agent/target has:" >&2
      ls -l agent/target >&2 || true
      exit 1
    fi
    install -Dm644 agent/target/nixek-agent.jar "$out/share/nixek-agent/nixek-agent.jar"
    makeWrapper ${jdk17_headless}/bin/java "$out/bin/nixek-agent" \
      --add-flags "-jar $out/share/nixek-agent/nixek-agent.jar"

    runHook postInstall
  '';

  meta = {
    description = "nixek-ci agent: runs one job's steps on its VM and reports them";
    mainProgram = "nixek-agent";
    platforms = lib.platforms.linux;
  };
}
