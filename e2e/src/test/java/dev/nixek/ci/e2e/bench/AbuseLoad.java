package dev.nixek.ci.e2e.bench;

import dev.nixek.ci.common.token.JobTokens;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an attacker sends at the report API's port while real agents report: ATTACK_RATE requests/s with well-shaped
 * unknown tokens (each on a new connection, as the API closes it after a refusal), and SLOW connections that send a
 * request line and then one header line every few seconds without ever ending the headers (slowloris), opened again
 * whenever the server closes them. Both come from SOURCES loopback addresses (127.0.1.x), none of them the agents'.
 */
final class AbuseLoad implements AutoCloseable {
  private static final int ATTACK_THREADS = 8;
  private static final Pattern CONTENT_LENGTH = Pattern.compile("(?i)\\r\\ncontent-length: *(\\d+)");

  private final InetSocketAddress server;
  private final String path;
  private final int rate;
  private final int slow;
  private final int sources;
  private final long dribbleNanos;
  private final List<String> tokens = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopped;
  /** Slow connections open or connecting (the slowloris thread's own count). */
  private int live;

  final Map<Integer, AtomicLong> attackAnswers = new ConcurrentHashMap<>();
  final AtomicLong attackErrors = new AtomicLong();
  final Map<String, AtomicLong> attackErrorKinds = new ConcurrentHashMap<>();
  final AtomicLong attackSkipped = new AtomicLong();
  final AtomicLong slowOpened = new AtomicLong();
  final AtomicLong slowConnectFailures = new AtomicLong();
  final Map<String, AtomicLong> slowClosedBy = new ConcurrentHashMap<>();
  final AtomicLong slowOpenNow = new AtomicLong();
  private final List<Long> slowLifetimesMillis = new ArrayList<>();

  AbuseLoad(int port, String path, int rate, int slow, int sources, long dribbleMillis) {
    this.server = new InetSocketAddress("127.0.0.1", port);
    this.path = path;
    this.rate = rate;
    this.slow = slow;
    this.sources = Math.max(1, sources);
    this.dribbleNanos = dribbleMillis * 1_000_000;
    JobTokens other = new JobTokens(JobTokens.newKey());
    for (int i = 0; i < 4096; i++) {
      tokens.add(other.tokenFor("attacker-" + i, 1));
    }
  }

  private InetSocketAddress source(long n) {
    int k = (int) (n % sources);
    return new InetSocketAddress("127.0." + (1 + k / 250) + "." + (1 + k % 250), 0);
  }

  void start() {
    if (rate > 0) {
      for (int t = 0; t < ATTACK_THREADS; t++) {
        int id = t;
        threads.add(started(() -> attack(id), "attack-" + t));
      }
    }
    if (slow > 0) {
      threads.add(started(this::slowloris, "slowloris"));
    }
  }

  /** One thread's share of the unknown-token requests, open loop; more than a second behind, it skips ahead. */
  private void attack(int id) {
    double interval = 1e9 * ATTACK_THREADS / rate;
    long start = System.nanoTime() + (long) (1e9 * id / rate);
    long i = 0;
    while (!stopped) {
      long due = start + (long) (i * interval);
      long now = System.nanoTime();
      if (now - due > 1_000_000_000L) {
        long skip = Math.max(1, (long) ((now - due) / interval));
        attackSkipped.addAndGet(skip);
        i += skip;
        continue;
      }
      if (due > now) {
        OpenLoopAgents.sleepNanos(due - now);
      }
      long n = i * ATTACK_THREADS + id;
      oneAttack(n);
      i++;
    }
  }

  private void oneAttack(long n) {
    String body = "{\"seq\":0,\"offset\":0,\"data\":\"aGVsbG8K\"}";
    String req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + server.getPort() + "\r\nAuthorization: Bearer "
        + tokens.get((int) (n % tokens.size())) + "\r\nContent-Type: application/json\r\nContent-Length: "
        + body.length() + "\r\n\r\n" + body;
    try (Socket s = new Socket()) {
      s.bind(source(n));
      s.connect(server, 5000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(req.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      byte[] answer = readAnswer(s.getInputStream());
      // reset, not close: the server keeps a refused request's connection open although it says "Connection: close"
      // (until its request timeout), and a FIN-closing client would pile up TIME_WAIT ports at this rate
      s.setSoLinger(true, 0);
      attackAnswers.computeIfAbsent(status(answer, answer.length), k -> new AtomicLong()).incrementAndGet();
    } catch (IOException e) {
      attackErrors.incrementAndGet();
      attackErrorKinds.computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicLong()).incrementAndGet();
    }
  }

  /** One HTTP/1.1 answer: its head and a Content-Length body (or what came before EOF). */
  private static byte[] readAnswer(InputStream in) throws IOException {
    byte[] buf = new byte[8192];
    int got = 0;
    int headEnd = -1;
    int total = Integer.MAX_VALUE;
    while (got < Math.min(total, buf.length)) {
      int r = in.read(buf, got, buf.length - got);
      if (r < 0) {
        break;
      }
      got += r;
      if (headEnd < 0) {
        String head = new String(buf, 0, got, StandardCharsets.ISO_8859_1);
        int i = head.indexOf("\r\n\r\n");
        if (i >= 0) {
          headEnd = i + 4;
          Matcher m = CONTENT_LENGTH.matcher(head.substring(0, i));
          total = headEnd + (m.find() ? Integer.parseInt(m.group(1)) : 0);
        }
      }
    }
    return java.util.Arrays.copyOf(buf, got);
  }

  private static int status(byte[] buf, int len) {
    String head = new String(buf, 0, Math.min(len, 16), StandardCharsets.US_ASCII);
    if (head.startsWith("HTTP/1.1 ") && head.length() >= 12) {
      try {
        return Integer.parseInt(head.substring(9, 12));
      } catch (NumberFormatException e) {
        return 0;
      }
    }
    return 0;
  }

  /** One selector thread holding SLOW connections open with a header line every dribble interval. */
  private void slowloris() {
    try (Selector selector = Selector.open()) {
      long n = 0;
      long nextDribble = System.nanoTime() + dribbleNanos;
      ByteBuffer in = ByteBuffer.allocate(4096);
      live = 0;
      while (!stopped) {
        // at most 100 new connections per turn: a server that closes them at once must not make this a busy loop
        for (int opens = 0; live < slow && opens < 100; opens++) {
          open(selector, n++);
          live++;
        }
        selector.select(100);
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
          SelectionKey key = it.next();
          it.remove();
          SocketChannel ch = (SocketChannel) key.channel();
          long[] opened = (long[]) key.attachment();
          try {
            if (key.isConnectable()) {
              ch.finishConnect();
              ch.write(ByteBuffer.wrap(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                  .getBytes(StandardCharsets.US_ASCII)));
              key.interestOps(SelectionKey.OP_READ);
              opened[0] = System.nanoTime();
              slowOpened.incrementAndGet();
              slowOpenNow.incrementAndGet();
            } else if (key.isReadable()) {
              in.clear();
              int r = ch.read(in);
              String why = r < 0 ? "closed without an answer" : "answered " + status(in.array(), in.position());
              closeSlow(key, opened, why);
            }
          } catch (IOException e) {
            if (opened[0] == 0) {
              slowConnectFailures.incrementAndGet();
              key.cancel();
              ch.close();
              live--;
            } else {
              closeSlow(key, opened, "reset");
            }
          }
        }
        if (System.nanoTime() >= nextDribble) {
          nextDribble += dribbleNanos;
          byte[] line = ("X-Slow-" + n + ": a\r\n").getBytes(StandardCharsets.US_ASCII);
          for (SelectionKey key : selector.keys()) {
            long[] opened = (long[]) key.attachment();
            if (key.isValid() && opened[0] != 0) {
              try {
                ((SocketChannel) key.channel()).write(ByteBuffer.wrap(line));
              } catch (IOException e) {
                closeSlow(key, opened, "reset");
              }
            }
          }
        }
      }
      for (SelectionKey key : selector.keys()) {
        key.channel().close();
      }
    } catch (IOException e) {
      throw new IllegalStateException("slowloris selector failed", e);
    }
  }

  private void open(Selector selector, long n) throws IOException {
    SocketChannel ch = SocketChannel.open();
    ch.bind(source(n));
    ch.configureBlocking(false);
    long[] opened = {0};
    if (ch.connect(server)) {
      throw new IllegalStateException("a non-blocking connect finished at once");
    }
    ch.register(selector, SelectionKey.OP_CONNECT, opened);
  }

  private void closeSlow(SelectionKey key, long[] opened, String why) {
    live--;
    slowClosedBy.computeIfAbsent(why, k -> new AtomicLong()).incrementAndGet();
    synchronized (slowLifetimesMillis) {
      slowLifetimesMillis.add((System.nanoTime() - opened[0]) / 1_000_000);
    }
    slowOpenNow.decrementAndGet();
    key.cancel();
    try {
      key.channel().close();
    } catch (IOException e) {
      // closing a dead connection
    }
  }

  /** Answers to the unknown-token requests by status (0: no answer), sorted. */
  Map<Integer, Long> answers() {
    Map<Integer, Long> m = new TreeMap<>();
    attackAnswers.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  long attackSent() {
    return answers().values().stream().mapToLong(Long::longValue).sum() + attackErrors.get();
  }

  /** Lifetimes of the slow connections the server closed: median and max in seconds, or "none closed". */
  String slowLifetimes() {
    List<Long> l;
    synchronized (slowLifetimesMillis) {
      l = new ArrayList<>(slowLifetimesMillis);
    }
    if (l.isEmpty()) {
      return "none closed";
    }
    l.sort(null);
    return String.format("%d closed, lifetime median %.1f s, max %.1f s", l.size(), l.get(l.size() / 2) / 1e3,
        l.get(l.size() - 1) / 1e3);
  }

  @Override
  public void close() throws InterruptedException {
    stopped = true;
    for (Thread t : threads) {
      t.join();
    }
  }

  private static Thread started(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
    return t;
  }
}
