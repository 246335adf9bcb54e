package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import io.semisup.core.dedup.EmbeddingWhitening;
import io.semisup.core.dedup.ExactSearch;
import io.semisup.core.dedup.SignLsh;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.config.DedupSettings;
import io.semisup.jobs.spark.EmbedPartition;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import org.apache.hadoop.fs.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Test-set contamination, between score and select: finds unlabelled images that are copies of
 * labelled or evaluation images (leaks), and near-duplicate groups inside the pool, by the
 * teacher's pooled embedding (L2-normalised, PCA-whitened on the labelled training images'
 * embeddings, {@link EmbeddingWhitening}; GeM pooling with {@code model.pooling = gem}
 * retrieves altered copies best, docs/results.md). Select leaves out every image of
 * {@code dedup/removed}.
 *
 * <p>Leak removal is exact: the labelled and evaluation embeddings (10^5 x 128 floats is 51 MB)
 * are broadcast, and every pool image is compared with all of them ({@link ExactSearch}). Inside
 * the pool, sign random projections ({@link SignLsh}, {@code dedup.lsh-tables} tables of
 * {@code dedup.lsh-bits} bits) bucket the images, and only images sharing a bucket are compared;
 * an image is removed when it matches an image with a smaller image_id, so each group keeps its
 * smallest. Pairs at or above {@code dedup.threshold} are verdict {@code leak} or
 * {@code near_duplicate}; leak candidates from {@code dedup.pair-floor} up to it are written as
 * {@code borderline} and kept. With {@code dedup.verify}, pairs in the verified band are decided
 * by {@link PairVerification} instead (MKD local descriptors and a homography). With
 * {@code dedup.enabled = false} both tables are written empty, so select reads the same handle
 * either way.
 */
public final class DedupStage extends Stage {

  public static final String NAME = "dedup";

  /** Verdicts of {@code dedup/pairs}. */
  public static final String LEAK = "leak";
  public static final String NEAR_DUPLICATE = "near_duplicate";
  public static final String BORDERLINE = "borderline";

  /** Largest bucket compared pair by pair; larger ones are compared in chunks of this size. */
  static final int MAX_BUCKET = 2000;

  /** Labelled training embeddings the whitening is learned on. */
  static final int WHITENING_SAMPLE = 5000;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Removes unlabelled copies of labelled/evaluation images and in-pool near-duplicates (teacher embeddings).";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(ShardStage.NAME, TeacherStage.NAME, ScoreStage.NAME);
  }

  @Override
  public List<Table> inputs() {
    return List.of(Tables.IMAGES);
  }

  @Override
  public List<Table> outputs() {
    return List.of(Tables.DEDUP_PAIRS, Tables.DEDUP_REMOVED);
  }

  @Override
  protected List<String> configKeys() {
    return List.of("dedup", "seed");
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  /** Off unless {@code dedup.enabled}: then every command skips it and select reads no removals. */
  @Override
  public boolean enabled(RunContext ctx) {
    return ctx.settings().dedup().enabled();
  }

  @Override
  protected void run(RunContext ctx, Path out, StageReport report) throws Exception {
    DedupSettings s = ctx.settings().dedup();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    Broadcast<byte[]> model = jsc.broadcast(Models.bytes(ctx, TeacherStage.NAME));
    // Through RDDs: createDataFrame converts float[] to array<float>; a Row encoder would not.
    EmbedPartition embed = new EmbedPartition(model);
    JavaRDD<Row> embedded = Tables.IMAGES.read(ctx).select("image_id", "bytes", "split").javaRDD()
        .mapPartitions(embed::call);
    Dataset<Row> emb = ctx.spark().createDataFrame(embedded, EmbedPartition.SCHEMA)
        .persist(StorageLevel.MEMORY_AND_DISK());
    // Whitening learned on the labelled training images' embeddings (never the evaluation split).
    List<Row> sample = emb.filter(col("split").equalTo(Tables.TRAIN)).select("embedding")
        .limit(WHITENING_SAMPLE).collectAsList();
    if (sample.size() < 2) {
      throw new IllegalStateException("Cannot learn dedup's whitening from " + sample.size()
          + " labelled training images: shard/images needs at least 2 in split train");
    }
    float[][] rows = new float[sample.size()][];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = floats(sample.get(i).getList(0));
    }
    Broadcast<EmbeddingWhitening> whitening = jsc.broadcast(EmbeddingWhitening.learn(rows));
    Dataset<Row> whitened = ctx.spark().createDataFrame(emb.javaRDD().map(r ->
            RowFactory.create(r.getString(0), r.getString(1), whitening.value().apply(floats(r.getList(2))))),
        EmbedPartition.SCHEMA).persist(StorageLevel.MEMORY_AND_DISK());
    emb.unpersist();
    emb = whitened;
    Dataset<Row> pool = emb.filter(col("split").equalTo(Tables.UNLABELLED));

    Dataset<Row> leaks = leaks(ctx, jsc, emb, pool, s);
    Dataset<Row> pairs = leaks;
    if (s.pool()) {
      pairs = pairs.unionByName(nearDuplicates(ctx, pool, s, ctx.settings().run().seed()));
    }
    pairs = PairVerification.apply(ctx.spark(), pairs, Tables.IMAGES.read(ctx), s);
    Tables.DEDUP_PAIRS.write(pairs, out);
    Dataset<Row> written = Tables.DEDUP_PAIRS.readFrom(ctx.spark(), out);
    // One row per removed image; a leak wins over a near-duplicate.
    Dataset<Row> removed = written.filter(col("verdict").isin(LEAK, NEAR_DUPLICATE))
        .groupBy("image_id")
        .agg(org.apache.spark.sql.functions.min(col("verdict")).as("reason"));
    Tables.DEDUP_REMOVED.write(removed.coalesce(1), out);
    Dataset<Row> removedBack = Tables.DEDUP_REMOVED.readFrom(ctx.spark(), out);
    long embeddedCount = emb.count();
    report.count("embedded_images", embeddedCount)
        .count("pool_images", pool.count())
        .count("leaks", removedBack.filter(col("reason").equalTo(LEAK)).count())
        .count("near_duplicates", removedBack.filter(col("reason").equalTo(NEAR_DUPLICATE)).count())
        .count("borderline_pairs", written.filter(col("verdict").equalTo(BORDERLINE)).count())
        .count("removed", removedBack.count())
        .count("verified_pairs", written.filter(col("verification").isNotNull()).count())
        .count("verified_matches", written.filter(col("verification").equalTo(PairVerification.MATCH)).count())
        .detail("threshold", s.threshold())
        .detail("pair_floor", s.pairFloor());
    emb.unpersist();
  }

  /** Every pool image's best labelled or evaluation match at or above the pair floor. */
  private static Dataset<Row> leaks(RunContext ctx, JavaSparkContext jsc, Dataset<Row> emb,
      Dataset<Row> pool, DedupSettings s) {
    List<Row> refs = emb.filter(col("split").notEqual(Tables.UNLABELLED))
        .orderBy("split", "image_id").collectAsList();
    if (refs.isEmpty()) {
      return ctx.spark().createDataFrame(List.of(), PairVerification.CANDIDATES);
    }
    float[][] vecs = new float[refs.size()][];
    String[] ids = new String[refs.size()];
    String[] splits = new String[refs.size()];
    for (int i = 0; i < vecs.length; i++) {
      vecs[i] = floats(refs.get(i).getList(2));
      ids[i] = refs.get(i).getString(0);
      splits[i] = refs.get(i).getString(1);
    }
    Broadcast<ExactSearch> search = jsc.broadcast(new ExactSearch(vecs));
    Broadcast<String[]> refIds = jsc.broadcast(ids);
    Broadcast<String[]> refSplits = jsc.broadcast(splits);
    double threshold = s.threshold();
    double floor = s.leakFloor();
    JavaRDD<Row> rows = pool.javaRDD().mapPartitions((Iterator<Row> it) -> {
      List<Row> batch = new ArrayList<>();
      List<Row> out = new ArrayList<>();
      while (it.hasNext()) {
        batch.add(it.next());
        if (batch.size() == 1024 || !it.hasNext()) {
          float[][] q = new float[batch.size()][];
          for (int i = 0; i < q.length; i++) {
            q[i] = floats(batch.get(i).getList(2));
          }
          ExactSearch.Match[] best = search.value().best(q);
          for (int i = 0; i < q.length; i++) {
            float sim = best[i].similarity();
            if (sim >= floor) {
              int r = best[i].index();
              out.add(RowFactory.create(batch.get(i).getString(0), refIds.value()[r],
                  refSplits.value()[r], sim, sim >= threshold ? LEAK : BORDERLINE));
            }
          }
          batch.clear();
        }
      }
      return out.iterator();
    });
    return ctx.spark().createDataFrame(rows, PairVerification.CANDIDATES);
  }

  /**
   * Pairs (image, smaller image_id it duplicates) inside the pool, by sign random projections:
   * images sharing a key in any table are compared exactly.
   */
  private static Dataset<Row> nearDuplicates(RunContext ctx, Dataset<Row> pool, DedupSettings s,
      long seed) {
    List<Row> sample = pool.limit(1).collectAsList();
    if (sample.isEmpty()) {
      return ctx.spark().createDataFrame(List.of(), PairVerification.CANDIDATES);
    }
    int dim = sample.get(0).getList(2).size();
    float[] center = mean(pool, dim);
    SignLsh lsh = new SignLsh(dim, s.lshTables(), s.lshBits(), center, seed);
    Broadcast<SignLsh> b = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext()).broadcast(lsh);
    float threshold = (float) s.threshold();
    float floor = (float) s.poolFloor();
    JavaRDD<Row> pairs = pool.javaRDD()
        .flatMapToPair(r -> {
          float[] v = floats(r.getList(2));
          int[] keys = b.value().keys(v);
          List<Tuple2<Long, Tuple2<String, float[]>>> out = new ArrayList<>(keys.length);
          for (int t = 0; t < keys.length; t++) {
            out.add(new Tuple2<>(((long) t << 32) | keys[t], new Tuple2<>(r.getString(0), v)));
          }
          return out.iterator();
        })
        .groupByKey()
        .flatMap(bucket -> {
          List<Tuple2<String, float[]>> members = new ArrayList<>();
          bucket._2().forEach(members::add);
          members.sort(Comparator.comparing(Tuple2::_1));
          List<Row> out = new ArrayList<>();
          for (int c0 = 0; c0 < members.size(); c0 += MAX_BUCKET) {
            int c1 = Math.min(members.size(), c0 + MAX_BUCKET);
            for (int j = c0 + 1; j < c1; j++) {
              // the best smaller match of image j in this bucket
              float best = -2;
              int arg = -1;
              for (int i = c0; i < j; i++) {
                float sim = SignLsh.dot(members.get(i)._2(), members.get(j)._2());
                if (sim > best) {
                  best = sim;
                  arg = i;
                }
              }
              if (best >= floor) {
                out.add(RowFactory.create(members.get(j)._1(), members.get(arg)._1(),
                    Tables.UNLABELLED, best, best >= threshold ? NEAR_DUPLICATE : BORDERLINE));
              }
            }
          }
          return out.iterator();
        });
    // The same pair can share a key in several tables: keep each image's best match once.
    return ctx.spark().createDataFrame(pairs, PairVerification.CANDIDATES)
        .dropDuplicates("image_id", "matched_id");
  }

  /** The pool's mean embedding (the centre of the hyperplanes). */
  private static float[] mean(Dataset<Row> pool, int dim) {
    double[] sum = pool.select("embedding").javaRDD()
        .map(r -> {
          float[] v = floats(r.getList(0));
          double[] d = new double[dim + 1];
          for (int k = 0; k < dim; k++) {
            d[k] = v[k];
          }
          d[dim] = 1;
          return d;
        })
        .reduce((a, c) -> {
          double[] t = a.clone();
          for (int k = 0; k < t.length; k++) {
            t[k] += c[k];
          }
          return t;
        });
    float[] m = new float[dim];
    for (int k = 0; k < dim; k++) {
      m[k] = (float) (sum[k] / sum[dim]);
    }
    return m;
  }

  static float[] floats(List<Object> list) {
    float[] v = new float[list.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = ((Number) list.get(i)).floatValue();
    }
    return v;
  }
}
