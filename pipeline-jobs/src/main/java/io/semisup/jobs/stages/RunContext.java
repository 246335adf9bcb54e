package io.semisup.jobs.stages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.config.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * One run of the pipeline as the stages see it: the Spark session, the validated configuration and
 * the run directory ({@code <root>/<run-id>}) on any Hadoop file system (local, HDFS).
 *
 * <p>A run may name a {@code base-run} whose committed {@code shared-stages} it reads instead of
 * its own: the ablations ({@code bin/semisup ablate}) train one teacher and score the pool once,
 * then vary only the stages after it. Shared stages are never written by the borrowing run.
 */
public final class RunContext {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final SparkSession spark;
  private final SemisupConfig config;
  private final String runId;
  private final Path runDir;
  private final FileSystem fs;
  private final String baseRun;
  private final Set<String> sharedStages;
  private String command = "semisup";

  public RunContext(SparkSession spark, SemisupConfig config) {
    this.spark = spark;
    this.config = config;
    this.runId = config.settings().run().runId();
    if (runId.isEmpty() || runId.contains("/")) {
      throw new IllegalArgumentException(
          "Cannot use run id '" + runId + "': it must be non-empty and contain no '/'.");
    }
    this.baseRun = config.settings().run().baseRun();
    if (!baseRun.isEmpty() && (baseRun.contains("/") || baseRun.equals(runId))) {
      throw new IllegalArgumentException("Cannot use base-run '" + baseRun + "' for run '" + runId
          + "': it must be another run id of the same root, without '/'.");
    }
    this.sharedStages = Set.copyOf(config.settings().run().sharedStages());
    Path root = new Path(config.settings().run().root());
    try {
      this.fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
      this.runDir = fs.makeQualified(new Path(root, runId));
    } catch (IOException e) {
      throw new IllegalStateException("Cannot open run root " + root + ": " + e.getMessage(), e);
    }
  }

  public SparkSession spark() {
    return spark;
  }

  public SemisupConfig config() {
    return config;
  }

  /** The typed, validated settings of this run's configuration. */
  public Settings settings() {
    return config.settings();
  }

  public String runId() {
    return runId;
  }

  public Path runDir() {
    return runDir;
  }

  public FileSystem fs() {
    return fs;
  }

  /** The run whose committed stages this run shares, or empty. */
  public String baseRun() {
    return baseRun;
  }

  /** True when this run reads {@code stage} from its base run instead of running it. */
  public boolean isShared(String stage) {
    return !baseRun.isEmpty() && sharedStages.contains(stage);
  }

  /** Committed output directory of a stage (in the base run for shared stages). */
  public Path stageDir(String stage) {
    return new Path(isShared(stage) ? new Path(runDir.getParent(), baseRun) : runDir, stage);
  }

  /** A file or folder inside a stage's committed output, as a string (tables: {@code Table.read}). */
  public String stagePath(String stage, String child) {
    return new Path(stageDir(stage), child).toString();
  }

  public boolean isCommitted(String stage) {
    try {
      return fs.exists(new Path(stageDir(stage), Stage.SUCCESS));
    } catch (IOException e) {
      throw new IllegalStateException("Cannot check " + stageDir(stage) + ": " + e.getMessage(), e);
    }
  }

  /** The committed manifest of a stage. */
  public JsonNode manifest(String stage) {
    Path file = new Path(stageDir(stage), Stage.MANIFEST);
    try (InputStream in = fs.open(file)) {
      return JSON.readTree(in);
    } catch (IOException e) {
      throw new IllegalStateException(
          "Cannot read " + file + ": " + e.getMessage() + ". Rerun stage " + stage + " with --force.", e);
    }
  }

  /**
   * SHA-256 of a committed stage's manifest: the identity later stages record for it. Every
   * commit writes a new commit id into its manifest, so a recomputed stage has a new hash.
   */
  public String manifestHash(String stage) {
    return manifestHash(stageDir(stage));
  }

  /** As {@link #manifestHash(String)}, for a committed stage directory given by path. */
  public String manifestHash(Path stageDir) {
    byte[] bytes = readBytes(new Path(stageDir, Stage.MANIFEST));
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Takes this run's write lock for the rest of the JVM's life ({@link RunLock}); fails at once,
   * naming the holder, when another command is writing the run.
   */
  public void lockForWriting() {
    RunLock.acquire(fs, runDir, command);
  }

  /** What the run lock says the writer is doing (the command line, for its holder message). */
  public RunContext describedAs(String command) {
    this.command = command;
    return this;
  }

  public byte[] readBytes(Path file) {
    try (InputStream in = file.getFileSystem(fs.getConf()).open(file)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  public void writeBytes(Path file, byte[] bytes) {
    try (FSDataOutputStream out = fs.create(file, true)) {
      out.write(bytes);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  public void writeString(Path file, String text) {
    writeBytes(file, text.getBytes(StandardCharsets.UTF_8));
  }

  public OutputStream create(Path file) throws IOException {
    return fs.create(file, true);
  }

  public static ObjectMapper json() {
    return JSON;
  }
}
