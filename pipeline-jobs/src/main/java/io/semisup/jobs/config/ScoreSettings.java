package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.choice;
import static io.semisup.jobs.config.Setting.flag;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.path;
import static io.semisup.jobs.config.Setting.text;

import java.util.List;

/** How the teacher scores the unlabelled pool: what is kept, which engine, how it is fed. */
public record ScoreSettings(
    int topP, int batchSize, String backend, boolean cuda, String engineSharing, int intraOpThreads,
    int decodeThreads, int prefetchBatches, int progressLogSeconds, int shardsPerCommit, int commitsInFlight,
    String teacherOnnx, String teacherMetadata, int failShard, String decoder, String reuseRun,
    String precision, int int8CalibrationImages, boolean embeddings) {

  static final List<Setting> SCHEMA = List.of(
      integer("score.top-p", Range.atLeast(1), "Classes kept per image (at least select.p)."),
      integer("score.batch-size", Range.atLeast(1), "Images per inference batch (score and evaluate).").noResult(),
      choice("score.backend", List.of("onnx", "dl4j"), "Inference engine: onnx (ONNX Runtime) or dl4j (the reference, about 30x slower on the CPU)."),
      flag("score.cuda", "ONNX Runtime's CUDA provider on GPU executors (falls back to the CPU with a warning)."),
      choice("score.engine-sharing", List.of("auto", "concurrent", "turns"), "How an executor's tasks share its engine; auto: concurrent on the CPU, turns with cuda.").noResult(),
      integer("score.intra-op-threads", Range.atLeast(0), "ONNX Runtime threads per batch (0: spark.task.cpus when concurrent, every core when taking turns).").noResult(),
      integer("score.decode-threads", Range.atLeast(0), "Threads per task decoding images while the engine runs (0: decode in line).").noResult(),
      integer("score.prefetch-batches", Range.atLeast(1), "Batches each task decodes ahead of inference.").noResult(),
      integer("score.progress-log-seconds", Range.atLeast(1), "Seconds between two progress log lines: of each scoring task, and of the committed shards.").noResult(),
      integer("score.shards-per-commit", Range.atLeast(0), "Shards scored and committed together for resuming (0: twice Spark's default parallelism).").noResult(),
      integer("score.commits-in-flight", Range.atLeast(1), "Groups of shards scored at once.").noResult(),
      path("score.teacher-onnx", "Bring your own teacher: an ONNX model file (set teacher-metadata too)."),
      path("score.teacher-metadata", "The JSON metadata of teacher-onnx (classes in the run's order, input size, normalization)."),
      integer("score.fail-shard", Range.atLeast(-1), "Test hook: tasks scoring this unlabelled shard fail after one batch (-1 = off; never in a real run).").noResult(),
      choice("score.decoder", List.of("auto", "opencv", "imageio"), "JPEG decoder: opencv (libjpeg-turbo, decoding at the smallest DCT scale covering the model input), imageio (ImageIO + TwelveMonkeys), auto (opencv where its natives load)."),
      text("score.reuse-run", "A run id of the same root whose scores are reused for the images it scored, when made by the same teacher bytes, engine and top-P (empty: score every image).").noResult(),
      choice("score.precision", List.of("auto", "fp32", "int8"), "Teacher arithmetic on ONNX Runtime: int8 (QDQ model calibrated on a sample of the pool), fp32, or auto: int8 for the run's own teacher of at least 4 MiB (ResNet-50 scores 3.1-3.5x faster, the demo's resnet-small slower) on CPUs with VNNI/AMX integer units when not on CUDA, else fp32."),
      integer("score.int8-calibration-images", Range.atLeast(1), "Pool images (a seeded sample) the INT8 teacher's activation ranges are calibrated on."),
      flag("score.embeddings", "Also write each image's L2-normalised teacher embedding (pooled features, same forward pass) to score/embeddings, which dedup reads instead of embedding the pool again."));

  static ScoreSettings from(SettingsReader r) {
    ScoreSettings s = new ScoreSettings(r.intOf("score.top-p"), r.intOf("score.batch-size"), r.stringOf("score.backend"),
        r.booleanOf("score.cuda"), r.stringOf("score.engine-sharing"), r.intOf("score.intra-op-threads"),
        r.intOf("score.decode-threads"), r.intOf("score.prefetch-batches"), r.intOf("score.progress-log-seconds"),
        r.intOf("score.shards-per-commit"), r.intOf("score.commits-in-flight"), r.stringOf("score.teacher-onnx"),
        r.stringOf("score.teacher-metadata"), r.intOf("score.fail-shard"), r.stringOf("score.decoder"),
        r.stringOf("score.reuse-run"), r.stringOf("score.precision"), r.intOf("score.int8-calibration-images"),
        r.booleanOf("score.embeddings"));
    if (s.teacherOnnx.isEmpty() != s.teacherMetadata.isEmpty()) {
      String set = s.teacherOnnx.isEmpty() ? "score.teacher-metadata" : "score.teacher-onnx";
      throw r.crossKey(set, "a teacher of your own needs both files: set both score.teacher-onnx (the .onnx file)"
          + " and score.teacher-metadata (its classes and preprocessing), or neither to score with the run's teacher.");
    }
    if (s.ownTeacher() && !s.backend.equals("onnx")) {
      throw r.crossKey("score.backend", "a teacher brought as ONNX runs on ONNX Runtime. Set score.backend=onnx.");
    }
    if (s.precision.equals("int8") && !s.backend.equals("onnx")) {
      throw r.crossKey("score.precision", "the INT8 teacher runs on ONNX Runtime. Set score.backend=onnx, or score.precision=fp32.");
    }
    return s;
  }

  /** Whether the run brings its own ONNX teacher instead of training one. */
  public boolean ownTeacher() {
    return !teacherOnnx.isEmpty();
  }
}
