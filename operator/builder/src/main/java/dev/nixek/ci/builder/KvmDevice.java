package dev.nixek.ci.builder;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;

/**
 * The KVM device of the builder pod. Usable means what Nix itself asks before it claims the {@code kvm} system
 * feature — the device opens read-write — and that it is a character device at all (a device plugin that hands out
 * a plain file would pass an access check and still leave QEMU without KVM).
 */
final class KvmDevice {
  static final Path DEFAULT = Path.of("/dev/kvm");
  /** Where to look instead of /dev/kvm: for tests, which hide the device by pointing here at a missing file. */
  static final String DEVICE_ENV = "NIXEK_BUILDER_KVM_DEVICE";
  /** st_mode's file-type bits, and those of a character device (S_IFMT, S_IFCHR). */
  private static final int S_IFMT = 0170000;
  private static final int S_IFCHR = 0020000;

  private KvmDevice() {}

  static Path of(Map<String, String> env) {
    String path = env.get(DEVICE_ENV);
    return path == null || path.isBlank() ? DEFAULT : Path.of(path);
  }

  /** Empty when {@code device} is usable; else why not, as the end of a sentence ("/dev/kvm ..."). */
  static Optional<String> problem(Path device) {
    if (!Files.exists(device)) {
      return Optional.of(device + " does not exist in the builder pod");
    }
    try {
      Object mode = Files.getAttribute(device, "unix:mode");
      if (mode instanceof Integer m && (m & S_IFMT) != S_IFCHR) {
        return Optional.of(device + " is not a character device");
      }
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      // no unix view (not Linux): the open below still decides
    }
    try (SeekableByteChannel ignored = Files.newByteChannel(device, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      return Optional.empty();
    } catch (AccessDeniedException e) {
      return Optional.of(device + " cannot be opened read-write by uid " + uid(device) + " (permission denied)");
    } catch (NoSuchFileException e) {
      return Optional.of(device + " does not exist in the builder pod");
    } catch (IOException e) {
      return Optional.of(device + " cannot be opened read-write: " + e.getMessage());
    }
  }

  private static String uid(Path device) {
    try {
      return String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid", LinkOption.NOFOLLOW_LINKS));
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "?";
    }
  }
}
