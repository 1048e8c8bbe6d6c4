package dev.nixek.ci.builder;

/**
 * How a file of {@code size} bytes is cut into multipart-upload parts. S3's limits: parts of 5 MiB to 5 GiB
 * (the last may be smaller), at most 10,000 parts, objects up to 5 TiB. A requested part size too small for
 * the file is grown (to whole MiB) so the part count stays within 10,000.
 */
public record PartPlan(long size, int partSize, int partCount) {
  public static final long MIB = 1024 * 1024;
  public static final int MIN_PART_SIZE = (int) (5 * MIB);
  /** S3 allows 5 GiB parts, but a part is one Java array here, so the cap is the largest array size in MiB. */
  public static final int MAX_PART_SIZE = (int) (2047 * MIB);
  public static final int MAX_PARTS = 10_000;
  public static final long MAX_OBJECT_SIZE = 5L * 1024 * 1024 * MIB;

  public static PartPlan of(long size, int requestedPartSize) {
    if (size < 0) {
      throw new IllegalArgumentException("negative size " + size);
    }
    if (requestedPartSize < MIN_PART_SIZE || requestedPartSize > MAX_PART_SIZE) {
      throw new IllegalArgumentException("part size must be between 5 MiB and 2047 MiB: " + requestedPartSize);
    }
    if (size > MAX_OBJECT_SIZE) {
      throw new IllegalArgumentException("file of " + size + " bytes exceeds S3's 5 TiB object limit");
    }
    long partSize = requestedPartSize;
    long needed = ceilDiv(size, MAX_PARTS);
    if (needed > partSize) {
      partSize = ceilDiv(needed, MIB) * MIB;
    }
    if (partSize > MAX_PART_SIZE) {
      throw new IllegalArgumentException("file of " + size + " bytes needs parts over 2047 MiB");
    }
    // an empty file is still one (empty) part: the object must exist
    int count = (int) Math.max(1, ceilDiv(size, partSize));
    return new PartPlan(size, (int) partSize, count);
  }

  /** Bytes of part {@code number} (1-based). */
  public int partLength(int number) {
    long start = (long) (number - 1) * partSize;
    return (int) Math.min(partSize, size - start);
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
