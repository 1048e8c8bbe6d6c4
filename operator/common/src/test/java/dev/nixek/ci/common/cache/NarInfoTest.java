package dev.nixek.ci.common.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class NarInfoTest {
  // as `nix copy --to file://...` wrote it (Nix 2.26.3)
  private static final String WRITTEN = """
      StorePath: /nix/store/s9yngwqykn4w1p7ld76pn4fx8b05hb0a-three
      URL: nar/1g88s1h4mjs2997w0y30fqgs4s1y0scncabi6fark0x2whnrj6s2.nar.xz
      Compression: xz
      FileHash: sha256:1g88s1h4mjs2997w0y30fqgs4s1y0scncabi6fark0x2whnrj6s2
      FileSize: 176
      NarHash: sha256:104z2zf7f0afnkvcps2zvjwhhdcbi4wz31cj7d18bglwkykiqkiq
      NarSize: 168
      References: pbxwrsqms1g7vg9hzz2rgfah5zvcahfc-two s9yngwqykn4w1p7ld76pn4fx8b05hb0a-three
      Deriver: b0lr98c7y7a2s914k926cgp1ryygix3k-three.drv
      """;

  private static NarInfo parse(String s) {
    return NarInfo.parse(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void parsesWhatNixWritesAndRendersItBack() {
    NarInfo info = parse(WRITTEN);
    assertThat(info.hashPart()).isEqualTo("s9yngwqykn4w1p7ld76pn4fx8b05hb0a");
    assertThat(info.references()).hasSize(2);
    assertThat(info.deriver()).isEqualTo("b0lr98c7y7a2s914k926cgp1ryygix3k-three.drv");
    assertThat(info.render()).isEqualTo(WRITTEN);
    assertThat(info.fingerprint()).isEqualTo("1;/nix/store/s9yngwqykn4w1p7ld76pn4fx8b05hb0a-three;"
        + "sha256:104z2zf7f0afnkvcps2zvjwhhdcbi4wz31cj7d18bglwkykiqkiq;168;"
        + "/nix/store/pbxwrsqms1g7vg9hzz2rgfah5zvcahfc-two,/nix/store/s9yngwqykn4w1p7ld76pn4fx8b05hb0a-three");
    NarInfo signed = info.withSignatures(List.of("k-1:abc="));
    assertThat(parse(signed.render())).isEqualTo(signed);
  }

  @Test
  void whatNixNeedsMissingOrMalformedIsRefusedNamingTheField() {
    assertThatThrownBy(() -> parse(WRITTEN.replace("StorePath: /nix/store/", "StorePath: /tmp/")))
        .hasMessageContaining("StorePath is malformed");
    assertThatThrownBy(() -> parse(WRITTEN.replace("URL: nar/", "URL: ../")))
        .hasMessageContaining("URL is malformed");
    assertThatThrownBy(() -> parse(WRITTEN.replaceAll("NarHash: .*\n", "")))
        .hasMessageContaining("no 'NarHash' field");
    assertThatThrownBy(() -> parse(WRITTEN.replace("NarSize: 168", "NarSize: -1")))
        .hasMessageContaining("NarSize is not a size");
    assertThatThrownBy(() -> parse(WRITTEN.replace("Compression: xz", "Compression: gzip")))
        .hasMessageContaining("Compression is not one of");
    assertThatThrownBy(() -> parse(WRITTEN.replace("-two ", "-two /etc/passwd ")))
        .hasMessageContaining("References holds a malformed store path");
    assertThatThrownBy(() -> parse(WRITTEN + "FileSize: 1\n")).hasMessageContaining("two 'FileSize' fields");
    assertThatThrownBy(() -> parse(WRITTEN + "garbage\n")).hasMessageContaining("not 'Field: value'");
    assertThatThrownBy(() -> NarInfo.parse(new byte[1024 * 1024 + 1])).hasMessageContaining("larger than 1 MiB");
  }
}
