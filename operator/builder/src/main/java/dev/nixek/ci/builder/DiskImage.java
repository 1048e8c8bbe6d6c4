package dev.nixek.ci.builder;

import java.nio.file.Path;

/**
 * The disk image found in a build output. {@code bootMode} ({@code legacy-bios} / {@code uefi}) and
 * {@code system} are known only when the output has NixOS's {@code nix-support/image-info.json}; else null.
 */
public record DiskImage(Path file, DiskFormat format, String bootMode, String system) {}
