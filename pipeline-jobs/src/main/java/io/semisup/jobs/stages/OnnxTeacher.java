package io.semisup.jobs.stages;

import io.semisup.core.model.ModelMetadata;
import io.semisup.core.scoring.OnnxScorer;
import io.semisup.jobs.spark.ScoringModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A teacher the user brings instead of training one: an ONNX file (e.g. exported from PyTorch)
 * plus a small metadata JSON file with its class list and preprocessing (the {@link
 * ModelMetadata} format, described in {@link OnnxScorer}). Set with {@code score.teacher-onnx}
 * and {@code score.teacher-metadata}; then {@code score} needs no {@code teacher} stage.
 *
 * <p>Everything that can be wrong with the pair is checked on the driver before any image is
 * read: both files exist and parse, the class list is the run's (the selection and the student
 * index classes as the run does), the model loads into ONNX Runtime, and its input and output
 * shapes fit the metadata. Each error names the file and says how to fix it.
 */
final class OnnxTeacher {

  static final String ONNX_KEY = "score.teacher-onnx";
  static final String METADATA_KEY = "score.teacher-metadata";

  private OnnxTeacher() {}

  /** Whether the run brings its own teacher (both keys set; one alone is an error). */
  static boolean configured(RunContext ctx) {
    String onnx = ctx.settings().score().teacherOnnx();
    String meta = ctx.settings().score().teacherMetadata();
    if (onnx.isEmpty() != meta.isEmpty()) {
      throw new IllegalArgumentException("Cannot use a teacher of your own with only "
          + (onnx.isEmpty() ? METADATA_KEY : ONNX_KEY) + " set: set both " + ONNX_KEY
          + " (the .onnx file) and " + METADATA_KEY + " (its class list and preprocessing),"
          + " or neither to score with the run's trained teacher.");
    }
    return !onnx.isEmpty();
  }

  /** The configured teacher, checked against the run and loaded once here (see class doc). */
  static Scoring.Teacher load(RunContext ctx) {
    Path onnxFile = new Path(ctx.settings().score().teacherOnnx());
    Path metaFile = new Path(ctx.settings().score().teacherMetadata());
    String backend = ctx.settings().score().backend();
    if (!backend.equals("onnx")) {
      throw new IllegalArgumentException("Cannot score with the ONNX teacher " + onnxFile
          + " on backend '" + backend + "': a teacher brought as ONNX runs on ONNX Runtime. Set"
          + " score.backend=onnx.");
    }
    ModelMetadata meta;
    try {
      meta = ModelMetadata.fromJson(new String(read(ctx, metaFile, METADATA_KEY),
          StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Cannot read teacher metadata " + metaFile + ": "
          + e.getMessage() + " It must be a JSON object like {\"modelId\": \"my-teacher\","
          + " \"architecture\": \"torch-resnet50\", \"classNames\": [...], \"input\": {\"height\":"
          + " 224, \"width\": 224, \"channels\": 3, \"mean\": [0.485, 0.456, 0.406], \"std\":"
          + " [0.229, 0.224, 0.225]}, \"seed\": 0, \"extra\": {}}.", e);
    }
    checkClasses(ctx, meta.classNames(), metaFile);
    byte[] model = read(ctx, onnxFile, ONNX_KEY);
    // Load once on the driver: a model that does not fit its metadata fails here, in seconds,
    // not in every task.
    try {
      OnnxScorer.check(model, meta.input(), meta.numClasses());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Cannot use ONNX teacher " + onnxFile + " with metadata "
          + metaFile + ": " + e.getMessage() + ". Fix the metadata's input (height, width,"
          + " channels) and classNames to match the model, or export the model with one float"
          + " NCHW input and softmax probabilities as its first output.", e);
    }
    return new Scoring.Teacher(meta.modelId(), ScoringModel.onnx(meta.modelId(), model,
        meta.input(), meta.numClasses(), Scoring.engine(ctx)));
  }

  private static void checkClasses(RunContext ctx, List<String> teacher, Path metaFile) {
    List<String> run = Classes.of(ctx);
    if (teacher.equals(run)) {
      return;
    }
    String where;
    if (teacher.size() != run.size()) {
      where = "it lists " + teacher.size() + " classes, the run has " + run.size();
    } else {
      int i = 0;
      while (teacher.get(i).equals(run.get(i))) {
        i++;
      }
      where = "class " + i + " is '" + teacher.get(i) + "' there and '" + run.get(i)
          + "' in the run";
    }
    throw new IllegalArgumentException("Cannot score run " + ctx.runId() + " with the teacher of "
        + metaFile + ": its classNames differ from the run's classes (" + where + "). The run's"
        + " classes, in order, are in " + new Path(ctx.stageDir(ShardStage.NAME),
            ShardStage.CLASSES) + " (the training folders, sorted): list the same names in the"
        + " same order, the order of the model's outputs, in classNames.");
  }

  private static byte[] read(RunContext ctx, Path file, String key) {
    try {
      FileSystem fs = file.getFileSystem(ctx.spark().sparkContext().hadoopConfiguration());
      if (!fs.exists(file)) {
        throw new IllegalArgumentException("Cannot read " + file + " (" + key + "): it does not"
            + " exist. Set " + key + " to an existing file (local path or Hadoop URI).");
      }
      try (InputStream in = fs.open(file)) {
        return in.readAllBytes();
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("Cannot read " + file + " (" + key + "): "
          + e.getMessage(), e);
    }
  }
}
