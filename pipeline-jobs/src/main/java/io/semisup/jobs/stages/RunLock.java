package io.semisup.jobs.stages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer per run: a lock file {@code <run>/_lock} created atomically (O_EXCL on a local disk,
 * {@code create(overwrite=false)} on HDFS), holding who has it (host, pid, start time, command).
 *
 * <p>Two commands writing one run would interleave their staging and commits (two {@code score}
 * commands committed every image twice). The second command fails at once with the holder named.
 * A lock left by a killed process is stale when its process is gone (same host) or when its
 * heartbeat (the file's modification time, touched every {@value #HEARTBEAT_S} s) is older than
 * {@value #STALE_AFTER_S} s (any host); the next writer takes it over and removes the staging
 * folders the dead writer left behind, since with the lock held nobody else can be using them.
 *
 * <p>Locks are per JVM and re-entrant: commands that open the same run several times (the demo's
 * rounds, the ablation's cells, tests) share one lock, released when the JVM exits or by
 * {@link #releaseAll()}.
 */
final class RunLock {
  private static final Logger LOG = LoggerFactory.getLogger(RunLock.class);

  static final String FILE = "_lock";
  static final long HEARTBEAT_S = 30;
  static final long STALE_AFTER_S = 300;

  private static final Map<Path, RunLock> HELD = new ConcurrentHashMap<>();
  private static volatile ScheduledExecutorService heartbeat;

  private final FileSystem fs;
  private final Path file;
  private final String token;

  private RunLock(FileSystem fs, Path file, String token) {
    this.fs = fs;
    this.file = file;
    this.token = token;
  }

  /**
   * Takes the write lock of {@code runDir} for this JVM (a no-op if it already holds it).
   *
   * @throws IllegalStateException naming the holder when another live process holds it
   */
  static synchronized void acquire(FileSystem fs, Path runDir, String command) {
    Path file = new Path(runDir, FILE);
    if (HELD.containsKey(file)) {
      return;
    }
    try {
      fs.mkdirs(runDir);
      String token = UUID.randomUUID().toString();
      if (!tryCreate(fs, file, holderJson(token, command))) {
        JsonNode holder = read(fs, file);
        String why = staleReason(fs, file, holder);
        if (why == null) {
          throw new IllegalStateException("Cannot write run " + runDir.getName()
              + ": another semisup command is writing it (" + describe(holder) + "). Wait for it "
              + "to finish or use another --run-id; if that process is gone, its lock " + file
              + " goes stale " + STALE_AFTER_S + " s after its last heartbeat.");
        }
        LOG.warn("Taking over the lock of run {}: {} ({})", runDir.getName(), why, describe(holder));
        takeOverStale(fs, file, holder);
        if (!tryCreate(fs, file, holderJson(token, command))) {
          throw new IllegalStateException("Cannot write run " + runDir.getName()
              + ": another semisup command took its lock at the same time (" + describe(read(fs, file))
              + "). Wait for it to finish or use another --run-id.");
        }
      }
      RunLock lock = new RunLock(fs, file, token);
      HELD.put(file, lock);
      startHeartbeat();
      removeDeadStaging(fs, runDir);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot lock run " + runDir + ": " + e.getMessage(), e);
    }
  }

  /** Whether this JVM holds the lock of {@code runDir}. */
  static boolean holds(Path runDir) {
    return HELD.containsKey(new Path(runDir, FILE));
  }

  /** Releases every lock this JVM holds (deletes the files that are still ours). */
  static synchronized void releaseAll() {
    for (RunLock lock : HELD.values()) {
      lock.release();
    }
    HELD.clear();
  }

  private void release() {
    try {
      JsonNode holder = read(fs, file);
      if (holder != null && token.equals(holder.path("token").asText())) {
        if ("file".equals(fs.getUri().getScheme())) {
          // At JVM exit Hadoop may have closed its file systems already; the local disk is always there.
          Files.deleteIfExists(Paths.get(file.toUri()));
        } else {
          fs.delete(file, false);
        }
      }
    } catch (IOException e) {
      LOG.warn("Cannot release lock {}: {}", file, e.getMessage());
    }
  }

  private static boolean tryCreate(FileSystem fs, Path file, byte[] content) throws IOException {
    if ("file".equals(fs.getUri().getScheme())) {
      // Hadoop's local file system checks and creates in two steps; O_EXCL is one.
      java.nio.file.Path local = Paths.get(file.toUri());
      try {
        Files.write(local, content, java.nio.file.StandardOpenOption.CREATE_NEW,
            java.nio.file.StandardOpenOption.WRITE);
        return true;
      } catch (FileAlreadyExistsException e) {
        return false;
      }
    }
    try (OutputStream out = fs.create(file, false)) {
      out.write(content);
      return true;
    } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      if (fs.exists(file)) {
        return false;
      }
      throw e;
    }
  }

  private static byte[] holderJson(String token, String command) throws IOException {
    ObjectNode j = RunContext.json().createObjectNode();
    j.put("token", token);
    j.put("host", hostName());
    j.put("pid", ProcessHandle.current().pid());
    j.put("started_at", Instant.now().toString());
    j.put("command", command);
    return RunContext.json().writerWithDefaultPrettyPrinter().writeValueAsBytes(j);
  }

  static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown-host";
    }
  }

  private static JsonNode read(FileSystem fs, Path file) throws IOException {
    try (InputStream in = fs.open(file)) {
      return RunContext.json().readTree(in);
    } catch (java.io.FileNotFoundException e) {
      return null;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return RunContext.json().createObjectNode(); // half-written by a writer killed mid-write
    }
  }

  private static String describe(JsonNode holder) {
    if (holder == null) {
      return "holder unknown";
    }
    return "host " + holder.path("host").asText("?") + ", pid " + holder.path("pid").asText("?")
        + ", since " + holder.path("started_at").asText("?") + ", `" + holder.path("command").asText("?") + "`";
  }

  /** Why the lock is stale, or null when its holder may still be alive. */
  private static String staleReason(FileSystem fs, Path file, JsonNode holder) throws IOException {
    if (holder == null) {
      return "released meanwhile";
    }
    if (!holder.has("pid")) {
      return "its content is unreadable (a writer killed while taking it)";
    }
    if (hostName().equals(holder.path("host").asText())
        && ProcessHandle.of(holder.path("pid").asLong()).map(p -> !p.isAlive()).orElse(true)) {
      return "its process " + holder.path("pid").asText() + " is gone";
    }
    FileStatus st = fs.getFileStatus(file);
    long ageS = (System.currentTimeMillis() - st.getModificationTime()) / 1000;
    if (ageS > STALE_AFTER_S) {
      return "no heartbeat for " + ageS + " s";
    }
    return null;
  }

  /** Moves a stale lock aside; puts it back if someone replaced it meanwhile (then fails later). */
  private static void takeOverStale(FileSystem fs, Path file, JsonNode stale) throws IOException {
    Path aside = new Path(file.getParent(), FILE + ".stale-" + UUID.randomUUID());
    if (!fs.rename(file, aside)) {
      return; // someone else moved it first
    }
    JsonNode moved = read(fs, aside);
    boolean same = moved != null && stale != null
        && moved.path("token").asText().equals(stale.path("token").asText());
    if (!same && !fs.exists(file)) {
      fs.rename(aside, file); // a fresh lock we must not steal
    } else {
      fs.delete(aside, false);
    }
  }

  private static void removeDeadStaging(FileSystem fs, Path runDir) throws IOException {
    Path staging = new Path(runDir, Stage.STAGING);
    if (fs.exists(staging)) {
      for (FileStatus st : fs.listStatus(staging)) {
        LOG.info("Removing {} left by an earlier command that did not finish", st.getPath());
        fs.delete(st.getPath(), true);
      }
    }
  }

  private static synchronized void startHeartbeat() {
    if (heartbeat != null) {
      return;
    }
    heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "semisup-run-lock-heartbeat");
      t.setDaemon(true);
      return t;
    });
    heartbeat.scheduleAtFixedRate(() -> {
      for (RunLock lock : HELD.values()) {
        try {
          lock.fs.setTimes(lock.file, System.currentTimeMillis(), -1);
        } catch (java.io.FileNotFoundException e) {
          // The run (or its lock) was deleted under us: nothing left to hold.
          LOG.warn("Lock {} is gone (the run was removed?); no longer holding it", lock.file);
          HELD.remove(lock.file);
        } catch (IOException | RuntimeException e) {
          LOG.warn("Cannot touch lock {}: {}", lock.file, e.getMessage());
        }
      }
    }, HEARTBEAT_S, HEARTBEAT_S, TimeUnit.SECONDS);
    Runtime.getRuntime().addShutdownHook(new Thread(RunLock::releaseAll, "semisup-run-lock-release"));
  }
}
