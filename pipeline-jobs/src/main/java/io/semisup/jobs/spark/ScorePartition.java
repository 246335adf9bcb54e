package io.semisup.jobs.spark;

import io.semisup.core.image.DecodedImage;
import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.ImageRejectedException;
import io.semisup.core.image.InputSpec;
import io.semisup.core.image.Preprocessor;
import io.semisup.core.scoring.Scorer;
import io.semisup.core.scoring.TopP;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Scores one partition of images with the executor's model: decode, preprocess, batch, top-P.
 * Input rows: (image_id, uri, bytes, label). Output: {@link #SCHEMA}; an image that cannot be
 * decoded comes out with null classes and its reason, so the caller can count and reject it.
 */
public final class ScorePartition implements MapPartitionsFunction<Row, Row> {

  public static final StructType SCHEMA =
      new StructType()
          .add("image_id", DataTypes.StringType, false)
          .add("uri", DataTypes.StringType, false)
          .add("label", DataTypes.IntegerType, true)
          .add("classes", DataTypes.createArrayType(DataTypes.IntegerType, false), true)
          .add("probs", DataTypes.createArrayType(DataTypes.FloatType, false), true)
          .add("reason", DataTypes.StringType, true)
          .add("detail", DataTypes.StringType, true);

  private final Broadcast<ScoringModel> model;
  private final InputSpec spec;
  private final int batchSize;
  private final int topP;

  public ScorePartition(Broadcast<ScoringModel> model, InputSpec spec, int batchSize, int topP) {
    this.model = model;
    this.spec = spec;
    this.batchSize = batchSize;
    this.topP = topP;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    Scorer scorer = ExecutorModels.scorer(model);
    ImageDecoder decoder = new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE);
    Preprocessor pre = new Preprocessor(spec);
    List<Row> out = new ArrayList<>();
    List<Row> pending = new ArrayList<>(batchSize);
    List<float[]> tensors = new ArrayList<>(batchSize);
    while (rows.hasNext()) {
      Row r = rows.next();
      Integer label = r.isNullAt(3) ? null : r.getInt(3);
      try {
        DecodedImage img = decoder.decode((byte[]) r.get(2));
        tensors.add(pre.toChw(img.image()));
        pending.add(r);
      } catch (ImageRejectedException e) {
        out.add(RowFactory.create(r.getString(0), r.getString(1), label, null, null, e.reason().name(), e.getMessage()));
      }
      if (tensors.size() == batchSize) {
        flush(scorer, pending, tensors, out);
      }
    }
    flush(scorer, pending, tensors, out);
    return out.iterator();
  }

  private void flush(Scorer scorer, List<Row> pending, List<float[]> tensors, List<Row> out) {
    if (tensors.isEmpty()) {
      return;
    }
    List<TopP> tops;
    synchronized (scorer) {
      tops = scorer.score(tensors.toArray(new float[0][]), topP);
    }
    for (int i = 0; i < pending.size(); i++) {
      Row r = pending.get(i);
      TopP t = tops.get(i);
      out.add(RowFactory.create(
          r.getString(0), r.getString(1), r.isNullAt(3) ? null : r.getInt(3), t.classes(), t.probs(), null, null));
    }
    pending.clear();
    tensors.clear();
  }
}
