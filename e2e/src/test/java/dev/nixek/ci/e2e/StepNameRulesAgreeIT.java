package dev.nixek.ci.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.common.job.StepNames;
import dev.nixek.ci.testing.kube.RequiredTools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three places a step name is checked say the same of the same names: nix/lib/step-name.nix (the evaluation),
 * {@link StepNames} (the operator and the report API) with the same reason, and the CRD's pattern (accepts exactly
 * what the other two accept). Names: every character up to U+3100 (all controls and space separators) at the start,
 * the end and inside a name, a sample of the rest of Unicode, lengths around the limit in one-, two- and four-byte
 * characters.
 */
class StepNameRulesAgreeIT {
  @Test
  void nixJavaAndTheCrdAgreeOnEveryName(@TempDir Path dir) throws Exception {
    RequiredTools.nix();
    List<String> names = new ArrayList<>(List.of("Check hello", "This step fails", "Build / test", "100% done",
        "a%2Fb", "it's \"quoted\"", "ünïcödé — テスト ✓ 🚀", "x"));
    for (int cp = 1; cp <= 0x3100; cp++) {
      if (cp < 0xd800 || cp > 0xdfff) {
        String c = new String(Character.toChars(cp));
        names.add(c + "x");
        names.add("x" + c);
        names.add("x" + c + "y");
      }
    }
    for (int cp = 0x3101; cp <= 0x10ffff; cp += 251) {
      if (cp < 0xd800 || cp > 0xdfff) {
        names.add("x" + new String(Character.toChars(cp)) + "y");
      }
    }
    for (String unit : List.of("a", "é", "テ", "🚀")) {
      for (int n : new int[] {99, 100, 101}) {
        names.add(unit.repeat(n));
      }
    }
    names.add("a".repeat(100) + "\t");

    Path file = dir.resolve("names.json");
    ObjectMapper json = new ObjectMapper();
    Files.write(file, json.writeValueAsBytes(names));
    Path lib = ManifestsIT.HOME.resolve("nix/lib/step-name.nix");
    Process p = new ProcessBuilder("nix-instantiate", "--eval", "--strict", "--json", "-E",
        "map (import " + lib + ").problem (builtins.fromJSON (builtins.readFile " + file + "))")
        .redirectError(dir.resolve("stderr").toFile()).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(dir.resolve("stderr"))).isZero();
    String[] nix = json.readValue(out, String[].class);
    assertThat(nix).hasSize(names.size());

    Pattern crd = Pattern.compile(NixekJobStep.NAME_PATTERN);
    List<String> disagreements = new ArrayList<>();
    int refused = 0;
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      String java = StepNames.problem(name).orElse(null);
      boolean crdAccepts = crd.matcher(name).matches() && name.codePointCount(0, name.length()) <= NixekJobStep.NAME_MAX;
      if (!Objects.equals(java, nix[i]) || crdAccepts != (java == null)) {
        disagreements.add(StepNames.quote(name) + ": java " + java + ", nix " + nix[i] + ", crd " + crdAccepts);
      }
      refused += java == null ? 0 : 1;
    }
    assertThat(disagreements).as("of %d names", names.size()).isEmpty();
    assertThat(refused).as("the matrix has refused names").isGreaterThan(200);
    assertThat(Arrays.stream(nix).filter(r -> r == null).count()).as("and accepted ones").isGreaterThan(10_000);
    System.out.println("step names: " + names.size() + " compared, " + refused + " refused by all three");
  }
}
