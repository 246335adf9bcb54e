package io.semisup.jobs.spark;

import io.semisup.core.dedup.Embeddings;
import io.semisup.core.image.DecodedImage;
import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.ImageRejectedException;
import io.semisup.core.image.Preprocessor;
import io.semisup.core.model.ModelBundle;
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
 * Embeds one partition of (image_id, bytes, split) rows with a model's pooled features
 * ({@link Embeddings}, L2-normalised): decode, preprocess to the model's input, forward in
 * batches. The model travels as a broadcast {@link ModelBundle} zip and is opened once per
 * partition. Images that do not decode (shard already rejected such files) are skipped.
 */
public final class EmbedPartition implements MapPartitionsFunction<Row, Row> {

  private static final long serialVersionUID = 1L;

  /** Output: image_id, split, embedding. */
  public static final StructType SCHEMA = new StructType()
      .add("image_id", DataTypes.StringType, false)
      .add("split", DataTypes.StringType, false)
      .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);

  private final Broadcast<byte[]> bundle;

  public EmbedPartition(Broadcast<byte[]> bundle) {
    this.bundle = bundle;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    if (!rows.hasNext()) {
      return java.util.Collections.emptyIterator();
    }
    ModelBundle model = ModelBundle.fromBytes(bundle.value());
    Preprocessor pre = new Preprocessor(model.metadata().input());
    ImageDecoder decoder = new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE);
    List<Row> out = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    List<String> splits = new ArrayList<>();
    List<float[]> chw = new ArrayList<>();
    while (rows.hasNext()) {
      Row r = rows.next();
      try {
        DecodedImage img = decoder.decode((byte[]) r.getAs("bytes"));
        chw.add(pre.toChw(img.image()));
        ids.add(r.getAs("image_id"));
        splits.add(r.getAs("split"));
      } catch (ImageRejectedException | RuntimeException e) {
        continue;
      }
      if (chw.size() == Embeddings.BATCH || !rows.hasNext()) {
        flush(model, ids, splits, chw, out);
      }
    }
    flush(model, ids, splits, chw, out);
    return out.iterator();
  }

  private static void flush(ModelBundle model, List<String> ids, List<String> splits,
      List<float[]> chw, List<Row> out) {
    if (chw.isEmpty()) {
      return;
    }
    float[][] emb = Embeddings.of(model.graph(), chw.toArray(new float[0][]), model.metadata().input());
    for (int i = 0; i < emb.length; i++) {
      out.add(RowFactory.create(ids.get(i), splits.get(i), emb[i]));
    }
    ids.clear();
    splits.clear();
    chw.clear();
  }
}
