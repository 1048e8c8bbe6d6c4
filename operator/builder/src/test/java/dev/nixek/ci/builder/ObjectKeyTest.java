package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ObjectKeyTest {
  private static final String DRV = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-amazon-image.drv";
  private static final Path IMAGE = Path.of("/nix/store/xyz-nixos-amazon-image/nixos.vhd");

  private static CliOptions options(String... extra) throws BuilderException {
    String[] base = {"build", "--build-command", "true", "--bucket", "b"};
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    return CliOptions.parse(args, Map.of());
  }

  @Test
  void keyIsUsedVerbatim() throws Exception {
    assertThat(ObjectKey.of(options("--key", "exact/key.vhd"), DRV, IMAGE)).isEqualTo("exact/key.vhd");
  }

  @Test
  void defaultKeyIsPrefixDrvNameAndFileName() throws Exception {
    assertThat(ObjectKey.of(options(), DRV, IMAGE))
        .isEqualTo("images/0123456789abcdfghijklmnpqrsvwxyz-nixos-amazon-image/nixos.vhd");
    assertThat(ObjectKey.of(options("--key-prefix", "/a/b//"), DRV, IMAGE)).startsWith("a/b/0123");
    assertThat(ObjectKey.of(options("--key-prefix", ""), DRV, IMAGE)).startsWith("0123");
    assertThat(ObjectKey.of(options("--identity", "img-1"), DRV, IMAGE)).isEqualTo("images/img-1/nixos.vhd");
  }

  @Test
  void withoutDrvPathOrIdentityThereIsNoKey() {
    assertThatThrownBy(() -> ObjectKey.of(options(), null, IMAGE)).hasMessageContaining("--identity");
  }
}
