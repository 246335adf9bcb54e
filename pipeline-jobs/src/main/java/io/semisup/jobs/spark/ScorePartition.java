package io.semisup.jobs.spark;

import io.semisup.core.image.DecodedImage;
import io.semisup.core.image.FastImageDecoder;
import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.ImageRejectedException;
import io.semisup.core.image.InputSpec;
import io.semisup.core.image.Preprocessor;
import io.semisup.core.image.RejectReason;
import io.semisup.core.scoring.Scorer;
import io.semisup.core.scoring.TopP;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores one partition of images with the executor's model: decode, preprocess, batch, top-P.
 * Input rows: (image_id, uri, bytes, label). Output: {@link #SCHEMA}, in input order; an image
 * that cannot be decoded comes out with null classes and its reason, so the caller can count and
 * reject it.
 *
 * <p>Decoding and resizing a photo costs a tenth of a ResNet-50 inference on the CPU, so done in
 * line it would leave the engine idle that long for every image. Here {@code decodeThreads}
 * threads prepare tensors ahead of the engine through a bounded queue of {@code prefetchBatches}
 * x {@code batchSize} images (the memory bound: that many tensors per task), while the task's own
 * thread runs inference; with 0 decode threads images are prepared in line (the baseline).
 * Output rows stream to the caller batch by batch, so a partition of any size holds one batch of
 * results. Progress (images, rate, share of time in inference and waiting for decode) is logged
 * per partition every {@code progressSeconds} and when it ends. The executor's tasks share its
 * one engine, running batches at the same time or taking turns as {@link ScoringEngine} says.
 */
public final class ScorePartition implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ScorePartition.class);

  public static final StructType SCHEMA =
      new StructType()
          .add("image_id", DataTypes.StringType, false)
          .add("uri", DataTypes.StringType, false)
          .add("label", DataTypes.IntegerType, true)
          .add("classes", DataTypes.createArrayType(DataTypes.IntegerType, false), true)
          .add("probs", DataTypes.createArrayType(DataTypes.FloatType, false), true)
          .add("reason", DataTypes.StringType, true)
          .add("detail", DataTypes.StringType, true);

  /**
   * {@link #SCHEMA} plus the image's L2-normalised embedding (null for a reject), when the
   * partition is asked for embeddings.
   */
  public static final StructType SCHEMA_WITH_EMBEDDING = SCHEMA
      .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), true);

  /**
   * How a partition is scored (see the class doc; keys under {@code score} in defaults.conf).
   *
   * @param failAfterFirstBatch fault-injection hook for resume tests: the partition throws once
   *     its first batch has been handed out (never set outside tests)
   */
  public record Settings(
      int batchSize, int topP, int decodeThreads, int prefetchBatches, int progressSeconds,
      boolean failAfterFirstBatch, FastImageDecoder.Kind decoder) implements Serializable {

    /** With the decoder {@code score.decoder} defaults to (auto). */
    public Settings(int batchSize, int topP, int decodeThreads, int prefetchBatches,
        int progressSeconds, boolean failAfterFirstBatch) {
      this(batchSize, topP, decodeThreads, prefetchBatches, progressSeconds, failAfterFirstBatch,
          FastImageDecoder.Kind.AUTO);
    }

    public Settings {
      java.util.Objects.requireNonNull(decoder, "decoder");
      if (batchSize < 1 || topP < 1 || decodeThreads < 0 || prefetchBatches < 1
          || progressSeconds < 1) {
        throw new IllegalArgumentException("Cannot score with batch-size " + batchSize
            + ", top-p " + topP + ", decode-threads " + decodeThreads + ", prefetch-batches "
            + prefetchBatches + ", progress-log-seconds " + progressSeconds
            + ": batch-size, top-p, prefetch-batches and progress-log-seconds must be >= 1,"
            + " decode-threads >= 0");
      }
    }

    /** In-line decoding, default prefetch and logging: what evaluation and tests need. */
    public static Settings simple(int batchSize, int topP) {
      return new Settings(batchSize, topP, 0, 1, 60, false);
    }

    public Settings withFailAfterFirstBatch(boolean fail) {
      return new Settings(batchSize, topP, decodeThreads, prefetchBatches, progressSeconds, fail,
          decoder);
    }
  }

  private final Broadcast<ScoringModel> model;
  private final InputSpec spec;
  private final Settings settings;
  private final String label;
  private final boolean embeddings;

  /**
   * @param label names the work in progress lines (e.g. the shard group)
   */
  public ScorePartition(Broadcast<ScoringModel> model, InputSpec spec, Settings settings,
      String label) {
    this(model, spec, settings, label, false);
  }

  /**
   * @param embeddings also emit each image's embedding from the same forward pass
   *     ({@link #SCHEMA_WITH_EMBEDDING}); the model must have an embedding output
   */
  public ScorePartition(Broadcast<ScoringModel> model, InputSpec spec, Settings settings,
      String label, boolean embeddings) {
    this.model = model;
    this.spec = spec;
    this.settings = settings;
    this.label = label;
    this.embeddings = embeddings;
  }

  /** In-line decoding (evaluation, small sets). */
  public ScorePartition(Broadcast<ScoringModel> model, InputSpec spec, int batchSize, int topP) {
    this(model, spec, Settings.simple(batchSize, topP), "score");
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    return new Run(rows, ExecutorModels.scorer(model));
  }

  /** One image on its way to the engine: its identity and its tensor, or why it has none. */
  private record Prepared(String id, String uri, Integer label, float[] tensor, String reason,
      String detail) {}

  /** The partition's pipeline; an iterator so results stream out batch by batch. */
  private final class Run implements Iterator<Row> {
    private final Iterator<Row> in;
    private final Scorer scorer;
    private final boolean concurrent;
    private final ExecutorService pool;
    private final int capacity;
    private final ArrayDeque<Future<Prepared>> queue = new ArrayDeque<>();
    private final ArrayDeque<Row> out = new ArrayDeque<>();
    private final FastImageDecoder decoder =
        new FastImageDecoder(new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE), settings.decoder());
    private final Preprocessor pre = new Preprocessor(spec);
    private final int partition;
    private final long start = System.nanoTime();
    private long lastLog = start;
    private long images;
    private long rejected;
    private long batches;
    private long inferNanos;
    private long lockNanos;
    private long waitNanos;
    private boolean done;
    /** The embeddings of the last batch {@link #infer} ran, when asked for. */
    private float[][] lastEmbeddings;

    Run(Iterator<Row> in, Scorer scorer) {
      this.in = in;
      this.scorer = scorer;
      this.concurrent = model.value().runsConcurrently(scorer);
      if (embeddings && !scorer.embeds()) {
        throw new IllegalStateException("Cannot write embeddings with model "
            + model.value().modelId() + ": it has no embedding output (a layer '"
            + io.semisup.core.model.Architectures.POOL + "'). Set score.embeddings=false");
      }
      TaskContext task = TaskContext.get();
      this.partition = task == null ? -1 : task.partitionId();
      if (settings.decodeThreads() > 0) {
        AtomicInteger n = new AtomicInteger();
        String name = "score-decode-" + partition + "-";
        this.pool = Executors.newFixedThreadPool(settings.decodeThreads(), r -> {
          Thread t = new Thread(r, name + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
        this.capacity = settings.prefetchBatches() * settings.batchSize();
        if (task != null) {
          // A failed or killed task must not leave decode threads behind.
          task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener)
              ctx -> pool.shutdownNow());
        }
      } else {
        this.pool = null;
        this.capacity = settings.batchSize();
      }
    }

    @Override
    public boolean hasNext() {
      while (out.isEmpty() && !done) {
        if (settings.failAfterFirstBatch() && batches >= 1) {
          throw new IllegalStateException("Fault injected by score.fail-shard in " + label
              + " partition " + partition + " after its first batch (a test hook; unset it)");
        }
        step();
      }
      if (out.isEmpty() && settings.failAfterFirstBatch()) {
        throw new IllegalStateException("Fault injected by score.fail-shard in " + label
            + " partition " + partition + " at its end (a test hook; unset it)");
      }
      return !out.isEmpty();
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return out.poll();
    }

    /** Keeps {@code capacity} images queued for (or done by) the decode threads. */
    private void fill() {
      while (queue.size() < capacity && in.hasNext()) {
        Row r = in.next();
        String id = r.getString(0);
        String uri = r.getString(1);
        byte[] bytes = (byte[]) r.get(2);
        Integer lbl = r.isNullAt(3) ? null : r.getInt(3);
        if (pool == null) {
          queue.add(CompletableFuture.completedFuture(prepare(id, uri, lbl, bytes)));
        } else {
          queue.add(pool.submit(() -> prepare(id, uri, lbl, bytes)));
        }
      }
    }

    private Prepared prepare(String id, String uri, Integer lbl, byte[] bytes) {
      try {
        // At the smallest DCT scale that still covers the model input (JPEGs, libjpeg-turbo),
        // before its centre crop (InputSpec.resizeRatio).
        DecodedImage img = decoder.decode(bytes, spec.resizedSides()[1], spec.resizedSides()[0]).image();
        return new Prepared(id, uri, lbl, pre.toChw(img.image()), null, null);
      } catch (ImageRejectedException e) {
        return new Prepared(id, uri, lbl, null, e.reason().name(), e.getMessage());
      } catch (RuntimeException e) {
        // A decoder bug on one odd file must not kill the job: record it (as shard does).
        return new Prepared(id, uri, lbl, null, RejectReason.CORRUPT.name(),
            e.getClass().getSimpleName() + ": " + e.getMessage());
      }
    }

    /** Takes one batch off the queue (refilling it as it goes), infers it, emits its rows. */
    private void step() {
      fill();
      List<Prepared> taken = new ArrayList<>(settings.batchSize());
      List<Prepared> batch = new ArrayList<>(settings.batchSize());
      while (batch.size() < settings.batchSize() && !queue.isEmpty()) {
        Prepared p = await(queue.poll());
        fill();
        images++;
        taken.add(p);
        if (p.tensor() == null) {
          rejected++;
        } else {
          batch.add(p);
        }
      }
      List<TopP> tops = batch.isEmpty() ? List.of() : infer(batch);
      // Rows leave in input order, rejects in their place.
      int k = 0;
      for (Prepared p : taken) {
        if (p.tensor() == null) {
          out.add(embeddings
              ? RowFactory.create(p.id(), p.uri(), p.label(), null, null, p.reason(), p.detail(),
                  null)
              : RowFactory.create(p.id(), p.uri(), p.label(), null, null, p.reason(),
                  p.detail()));
        } else {
          TopP t = tops.get(k);
          out.add(embeddings
              ? RowFactory.create(p.id(), p.uri(), p.label(), t.classes(), t.probs(), null, null,
                  lastEmbeddings[k])
              : RowFactory.create(p.id(), p.uri(), p.label(), t.classes(), t.probs(), null,
                  null));
          k++;
        }
      }
      if (queue.isEmpty() && !in.hasNext()) {
        done = true;
        if (pool != null) {
          pool.shutdownNow();
        }
        log(true);
      } else if (System.nanoTime() - lastLog > settings.progressSeconds() * 1_000_000_000L) {
        log(false);
      }
    }

    private Prepared await(Future<Prepared> f) {
      long t0 = System.nanoTime();
      try {
        return f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while decoding images of " + label, e);
      } catch (ExecutionException e) {
        Throwable c = e.getCause();
        if (c instanceof RuntimeException re) {
          throw re;
        }
        if (c instanceof Error err) {
          throw err;
        }
        throw new IllegalStateException("Cannot prepare an image of " + label + ": " + c, c);
      } finally {
        waitNanos += System.nanoTime() - t0;
      }
    }

    private List<TopP> infer(List<Prepared> batch) {
      float[][] x = new float[batch.size()][];
      for (int i = 0; i < x.length; i++) {
        x[i] = batch.get(i).tensor();
      }
      long t0 = System.nanoTime();
      float[][] probs;
      if (concurrent) {
        // Each task runs its batch on its own cores (ScoringEngine says why).
        probs = forward(x);
        inferNanos += System.nanoTime() - t0;
      } else {
        // One engine per executor JVM, shared by its task threads, using every core for one
        // batch: batches take turns.
        synchronized (scorer) {
          long t1 = System.nanoTime();
          lockNanos += t1 - t0;
          probs = forward(x);
          inferNanos += System.nanoTime() - t1;
        }
      }
      batches++;
      List<TopP> tops = new ArrayList<>(x.length);
      for (float[] row : probs) {
        tops.add(TopP.of(row, settings.topP()));
      }
      return tops;
    }

    /** Probabilities of one batch; its embeddings into {@link #lastEmbeddings} when asked for. */
    private float[][] forward(float[][] x) {
      if (!embeddings) {
        return scorer.probabilities(x);
      }
      Scorer.Outputs o = scorer.probabilitiesAndEmbeddings(x);
      lastEmbeddings = o.embeddings();
      return o.probabilities();
    }

    private void log(boolean end) {
      long now = System.nanoTime();
      lastLog = now;
      double s = (now - start) / 1e9;
      LOG.info(String.format(Locale.ROOT,
          "[score] %s partition %d %s: %d images (%d rejected) in %.1f s = %.1f img/s;"
              + " inference %.0f%% of the time, waiting for decode %.0f%%, for the engine"
              + " (another task's batch) %.0f%%",
          label, partition, end ? "done" : "progress", images, rejected, s,
          s > 0 ? images / s : 0.0, 100 * inferNanos / 1e9 / Math.max(s, 1e-9),
          100 * waitNanos / 1e9 / Math.max(s, 1e-9), 100 * lockNanos / 1e9 / Math.max(s, 1e-9)));
    }
  }
}
