package dev.nixek.ci.builder;

import java.util.Locale;
import java.util.Optional;

/** The disk formats EC2 ImportSnapshot accepts, named as its {@code DiskContainer.Format} expects them. */
public enum DiskFormat {
  VHD,
  VMDK,
  RAW;

  /** The format implied by a file name's extension ({@code .vhd}, {@code .vmdk}, {@code .raw} or {@code .img}). */
  public static Optional<DiskFormat> fromFileName(String fileName) {
    String name = fileName.toLowerCase(Locale.ROOT);
    if (name.endsWith(".vhd")) {
      return Optional.of(VHD);
    }
    if (name.endsWith(".vmdk")) {
      return Optional.of(VMDK);
    }
    if (name.endsWith(".raw") || name.endsWith(".img")) {
      return Optional.of(RAW);
    }
    return Optional.empty();
  }
}
