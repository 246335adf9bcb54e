package io.semisup.jobs.stages;

import io.semisup.core.model.ModelBundle;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.hadoop.fs.Path;

/** Where a stage keeps its model ({@code <stage>/model.zip}) and how it travels on any file system. */
final class Models {

  static final String FILE = "model.zip";

  private Models() {}

  static void save(RunContext ctx, Path stageOut, ModelBundle bundle) throws IOException {
    try (OutputStream out = ctx.create(new Path(stageOut, FILE))) {
      bundle.writeTo(out);
    }
  }

  static ModelBundle load(RunContext ctx, String stage) {
    Path file = new Path(ctx.stageDir(stage), FILE);
    try (InputStream in = ctx.fs().open(file)) {
      return ModelBundle.readFrom(in);
    } catch (IOException e) {
      throw new IllegalStateException(
          "Cannot load the model of stage " + stage + " from " + file + ": " + e.getMessage()
              + ". Rerun `bin/semisup " + stage + " --run-id " + ctx.runId() + " --force`.", e);
    }
  }

  /** The model of a committed model stage given by its directory (e.g. another run's finetune). */
  static ModelBundle loadFrom(RunContext ctx, String stageDir, String key) {
    Path file = new Path(stageDir, FILE);
    try (InputStream in = file.getFileSystem(ctx.spark().sparkContext().hadoopConfiguration()).open(file)) {
      return ModelBundle.readFrom(in);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot load the model given by " + key + " from " + file + ": "
          + e.getMessage() + ". Point " + key + " at a committed teacher, student or finetune stage directory.", e);
    }
  }

  static byte[] bytes(RunContext ctx, String stage) {
    return ctx.readBytes(new Path(ctx.stageDir(stage), FILE));
  }
}
