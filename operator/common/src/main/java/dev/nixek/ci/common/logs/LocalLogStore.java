package dev.nixek.ci.common.logs;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The log store in a local directory (the embedded default and the demo); layout in docs/logs.md#store-layout.
 * Every file is written under a temporary name, forced to disk and then linked or renamed into place (and the
 * directory forced), so a crash leaves a whole chunk or none. All state is in the files: two instances over one
 * directory (two report API replicas on one host) see each other's chunks. Directories are 0700, files 0600.
 */
public final class LocalLogStore implements LogStore {
  private static final String TEMP = ".tmp-";
  private static final String LOG = "log";
  private static final String INDEX = "log.index";
  private static final String CHUNKS = "unsealed";
  private static final int ATTEMPTS = 5;

  private final Path root;

  /** A store in {@code root}, created (0700) when missing. */
  public LocalLogStore(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    LocalFiles.mkdirs(this.root);
  }

  public Path root() {
    return root;
  }

  @Override
  public void put(StepLog log, long seq, long offset, byte[] data) throws IOException {
    ChunkIndex.checkPut(seq, offset, data);
    Path step = stepDir(log);
    if (Files.exists(step.resolve(LOG))) {
      return; // sealed: a late chunk would never be read (LogStore#put)
    }
    Path chunks = step.resolve(CHUNKS);
    StoredChunk chunk = new StoredChunk(seq, offset, data.length, ChunkIndex.sha256Hex(data));
    Path target = chunks.resolve(ChunkIndex.seqName(seq));
    for (int attempt = 1; ; attempt++) {
      LocalFiles.mkdirs(chunks);
      Path temp = chunks.resolve(TEMP + UUID.randomUUID());
      try {
        LocalFiles.writeDurably(temp, ByteBuffer.wrap(ChunkIndex.encode(chunk)), ByteBuffer.wrap(data));
        // link(2) never replaces: a chunk that is there stays as it was, and a replay is told from a contradiction
        Files.createLink(target, temp);
        LocalFiles.forceDir(chunks);
        return;
      } catch (FileAlreadyExistsException e) {
        StoredChunk stored = readHeader(target, seq);
        if (!stored.equals(chunk)) {
          throw new IOException("chunk " + seq + " of " + LogNames.stepPath(log) + " is stored as " + stored
              + ", not " + chunk);
        }
        return;
      } catch (NoSuchFileException e) {
        // a concurrent delete() or seal() removed the directory between mkdirs and the write: make it again
        if (attempt >= ATTEMPTS) {
          throw e;
        }
      } finally {
        Files.deleteIfExists(temp);
      }
    }
  }

  @Override
  public Optional<StoredChunk> chunk(StepLog log, long seq) throws IOException {
    if (seq < 0) {
      return Optional.empty();
    }
    Path step = stepDir(log);
    try {
      return Optional.of(readHeader(step.resolve(CHUNKS).resolve(ChunkIndex.seqName(seq)), seq));
    } catch (NoSuchFileException e) {
      // sealed (or being sealed): the index was written before any chunk file was removed
    }
    try (FileChannel index = FileChannel.open(step.resolve(INDEX), StandardOpenOption.READ)) {
      if ((seq + 1) * ChunkIndex.SIZE > index.size()) {
        return Optional.empty();
      }
      return Optional.of(ChunkIndex.decode(seq, LocalFiles.readFully(index, seq * ChunkIndex.SIZE, ChunkIndex.SIZE)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public StoredLog state(StepLog log) throws IOException {
    Path step = stepDir(log);
    for (int attempt = 1; ; attempt++) {
      Optional<StoredLog> sealed = sealedState(step);
      if (sealed.isPresent()) {
        return sealed.get();
      }
      try {
        long n = contiguousChunks(step);
        return n == 0 ? StoredLog.EMPTY : new StoredLog(n, readHeader(chunkFile(step, n - 1), n - 1).end(), false);
      } catch (NoSuchFileException e) {
        if (attempt >= ATTEMPTS) { // sealed (or deleted) while we looked: look again
          throw e;
        }
      }
    }
  }

  @Override
  public void seal(StepLog log) throws IOException {
    Path step = stepDir(log);
    Path chunks = step.resolve(CHUNKS);
    if (!Files.exists(step.resolve(LOG))) {
      try {
        compact(step);
      } catch (NoSuchFileException e) {
        if (!Files.exists(step.resolve(LOG))) {
          throw e; // not another replica sealing at the same time: a real loss
        }
      }
    }
    LocalFiles.deleteTree(chunks);
  }

  private void compact(Path step) throws IOException {
    if (!Files.isDirectory(step)) {
      LocalFiles.mkdirs(step);
    }
    long n = contiguousChunks(step);
    Path logTemp = step.resolve(TEMP + "log-" + UUID.randomUUID());
    Path indexTemp = step.resolve(TEMP + "index-" + UUID.randomUUID());
    try {
      ByteArrayOutputStream index = new ByteArrayOutputStream();
      try (FileChannel outFile = FileChannel.open(logTemp,
          Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), LocalFiles.FILE_ATTR)) {
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(outFile), 1 << 20);
        long expected = 0;
        for (long seq = 0; seq < n; seq++) {
          try (FileChannel in = FileChannel.open(chunkFile(step, seq), StandardOpenOption.READ)) {
            StoredChunk c = ChunkIndex.decode(seq, LocalFiles.readFully(in, 0, ChunkIndex.SIZE));
            if (c.offset() != expected || in.size() != ChunkIndex.SIZE + (long) c.length()) {
              throw new IOException("cannot seal " + step + ": chunk " + seq + " is " + c + " in a file of "
                  + in.size() + " bytes, expected offset " + expected);
            }
            byte[] data = LocalFiles.readFully(in, ChunkIndex.SIZE, c.length());
            if (!ChunkIndex.sha256Hex(data).equals(c.sha256())) {
              throw new IOException("cannot seal " + step + ": chunk " + seq + " does not match its SHA-256");
            }
            out.write(data);
            index.writeBytes(ChunkIndex.encode(c));
            expected = c.end();
          }
        }
        out.flush();
        outFile.force(true);
      }
      LocalFiles.writeDurably(indexTemp, ByteBuffer.wrap(index.toByteArray()));
      // index first: whoever sees the log also finds every chunk's record (chunk() after sealing)
      Files.move(indexTemp, step.resolve(INDEX), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Files.move(logTemp, step.resolve(LOG), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      LocalFiles.forceDir(step);
    } finally {
      Files.deleteIfExists(logTemp);
      Files.deleteIfExists(indexTemp);
    }
  }

  @Override
  public long read(StepLog log, long from, long maxBytes, OutputStream out) throws IOException {
    if (from < 0 || maxBytes < 0) {
      throw new IllegalArgumentException("from and maxBytes must be >= 0, were " + from + " and " + maxBytes);
    }
    Path step = stepDir(log);
    long copied = 0;
    for (int attempt = 1; ; attempt++) {
      try (FileChannel sealed = FileChannel.open(step.resolve(LOG), StandardOpenOption.READ)) {
        return copied + LocalFiles.copy(sealed, from + copied, Math.max(0, sealed.size() - from - copied),
            maxBytes - copied, out);
      } catch (NoSuchFileException notSealed) {
        // read the chunks
      }
      try {
        copied += readChunks(step, from + copied, maxBytes - copied, out);
        return copied;
      } catch (ChunkGone e) {
        copied += e.copied; // sealed (or deleted) under us: the rest comes from the sealed log, if any
        if (attempt >= ATTEMPTS) {
          throw e.cause;
        }
      }
    }
  }

  private long readChunks(Path step, long from, long maxBytes, OutputStream out) throws IOException, ChunkGone {
    long copied = 0;
    try {
      long n = contiguousChunks(step);
      long seq = findChunk(step, n, from);
      for (; seq < n && copied < maxBytes; seq++) {
        try (FileChannel in = FileChannel.open(chunkFile(step, seq), StandardOpenOption.READ)) {
          StoredChunk c = ChunkIndex.decode(seq, LocalFiles.readFully(in, 0, ChunkIndex.SIZE));
          long pos = from + copied;
          if (pos < c.offset() || pos >= c.end()) {
            if (pos >= c.end()) {
              continue;
            }
            throw new IOException("chunk " + seq + " of " + step + " starts at " + c.offset() + ", expected " + pos);
          }
          copied += LocalFiles.copy(in, ChunkIndex.SIZE + pos - c.offset(), c.end() - pos, maxBytes - copied, out);
        }
      }
      return copied;
    } catch (NoSuchFileException e) {
      throw new ChunkGone(copied, e);
    }
  }

  /** The first chunk of {@code 0..n-1} that ends after {@code from} (n when none): chunk offsets grow with seq. */
  private static long findChunk(Path step, long n, long from) throws IOException {
    long lo = 0;
    long hi = n;
    while (lo < hi) {
      long mid = (lo + hi) >>> 1;
      if (readHeader(chunkFile(step, mid), mid).end() <= from) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  @Override
  public void delete(JobLogs job) throws IOException {
    Path dir = root.resolve(LogNames.jobPath(job));
    LocalFiles.deleteTree(dir);
    // drop the name and namespace directories when empty, so that they do not pile up job after job
    for (Path p = dir.getParent(); p != null && !p.equals(root); p = p.getParent()) {
      try {
        Files.delete(p);
      } catch (DirectoryNotEmptyException | NoSuchFileException e) {
        break;
      }
    }
  }

  @Override
  public List<StoredJob> jobs() throws IOException {
    List<StoredJob> out = new ArrayList<>();
    for (Path ns : LocalFiles.children(root)) {
      for (Path name : LocalFiles.children(ns)) {
        for (Path uid : LocalFiles.children(name)) {
          Optional<JobLogs> job = LogNames.parseJob(ns.getFileName().toString(), name.getFileName().toString(),
              uid.getFileName().toString());
          if (job.isPresent()) {
            LocalFiles.newest(uid).ifPresent(t -> out.add(new StoredJob(job.get(), t)));
          }
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    // nothing held between calls
  }

  private Path stepDir(StepLog log) {
    Path step = root.resolve(LogNames.stepPath(log)).normalize();
    if (!step.startsWith(root)) {
      throw new IllegalArgumentException("log path escapes the store: " + log);
    }
    return step;
  }

  private static Path chunkFile(Path step, long seq) {
    return step.resolve(CHUNKS).resolve(ChunkIndex.seqName(seq));
  }

  private static Optional<StoredLog> sealedState(Path step) throws IOException {
    try {
      long bytes = Files.size(step.resolve(LOG));
      long indexSize = Files.size(step.resolve(INDEX));
      return Optional.of(new StoredLog(indexSize / ChunkIndex.SIZE, bytes, true));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** How many chunks from 0 are stored without a gap. */
  private static long contiguousChunks(Path step) throws IOException {
    String[] names;
    try {
      names = step.resolve(CHUNKS).toFile().list();
    } catch (SecurityException e) {
      throw new IOException(e);
    }
    if (names == null) {
      return 0;
    }
    long[] seqs = Arrays.stream(names).mapToLong(ChunkIndex::parseSeqName).filter(s -> s >= 0).sorted().toArray();
    long n = 0;
    while (n < seqs.length && seqs[(int) n] == n) {
      n++;
    }
    return n;
  }

  private static StoredChunk readHeader(Path file, long seq) throws IOException {
    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
      return ChunkIndex.decode(seq, LocalFiles.readFully(in, 0, ChunkIndex.SIZE));
    }
  }

  /** A chunk file vanished mid-read (sealing or deletion removed it); {@code copied} bytes were already written. */
  private static final class ChunkGone extends Exception {
    final long copied;
    final NoSuchFileException cause;

    ChunkGone(long copied, NoSuchFileException cause) {
      super(cause);
      this.copied = copied;
      this.cause = cause;
    }
  }
}
