package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semisup.core.image.ChannelStatistics;
import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.ImageRejectedException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What the labelled images say about the model's input: whether they are colour, and the mean and
 * standard deviation of pixel/255 per channel (grey and RGB both, so an explicit
 * {@code model.input.channels} finds its own). Measured by {@code shard} on a sample of the
 * training split, {@link #SAMPLE} images with the smallest content hashes (a deterministic
 * pseudo-random choice, independent of names and order), and recorded as
 * {@code <run>/shard/input_stats.json}; {@link TrainingInput} reads it.
 */
public record InputStatistics(long sampledImages, long colourImages, List<Double> greyMean, List<Double> greyStd,
    List<Double> rgbMean, List<Double> rgbStd) {

  public static final String FILE = "input_stats.json";
  /** Images measured: enough for three decimals of a mean, cheap even at 224 pixels. */
  public static final int SAMPLE = 1000;

  /** 3 when any sampled image is colour, else 1. */
  public int channels() {
    return colourImages > 0 ? 3 : 1;
  }

  public List<Double> mean(int channels) {
    return channels == 1 ? greyMean : rgbMean;
  }

  public List<Double> std(int channels) {
    return channels == 1 ? greyStd : rgbStd;
  }

  /** Measures the training rows ({@code image_id}, {@code bytes}) in Spark tasks; only sums reach the driver. */
  static InputStatistics measure(Dataset<Row> train) {
    List<String> ids = new ArrayList<>();
    for (Row r : train.select("image_id").orderBy("image_id").limit(SAMPLE).collectAsList()) {
      ids.add(r.getString(0));
    }
    if (ids.isEmpty()) {
      return of(new ChannelStatistics());
    }
    ChannelStatistics total = train.filter(col("image_id").isin(ids.toArray())).select("bytes")
        .javaRDD()
        .map(r -> {
          try {
            return new ChannelStatistics().add(new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE).decode(r.getAs(0)).image());
          } catch (ImageRejectedException e) {
            throw new IllegalStateException("Cannot decode an image shard accepted: " + e.getMessage(), e);
          }
        })
        .reduce(ChannelStatistics::merge);
    return of(total);
  }

  public static InputStatistics of(ChannelStatistics s) {
    return s.images() == 0
        ? new InputStatistics(0, 0, List.of(), List.of(), List.of(), List.of())
        : new InputStatistics(s.images(), s.colourImages(), list(s.mean(1)), list(s.std(1)), list(s.mean(3)),
            list(s.std(3)));
  }

  void write(RunContext ctx, Path dir) throws IOException {
    ObjectNode n = RunContext.json().createObjectNode();
    n.put("channels", channels());
    n.put("sampled_images", sampledImages);
    n.put("colour_images", colourImages);
    n.putObject("grey").putPOJO("mean", greyMean).putPOJO("std", greyStd);
    n.putObject("rgb").putPOJO("mean", rgbMean).putPOJO("std", rgbStd);
    ctx.writeString(new Path(dir, FILE), RunContext.json().writerWithDefaultPrettyPrinter().writeValueAsString(n));
  }

  /** The statistics shard recorded for this run (or its base run). */
  public static InputStatistics read(RunContext ctx) {
    Path file = new Path(ctx.stageDir(ShardStage.NAME), FILE);
    try {
      if (!ctx.fs().exists(file)) {
        throw new IllegalStateException("Cannot find " + file + ": the run's shard stage predates measured input"
            + " statistics. Rerun shard (--force), or set model.input.channels, model.input.mean and model.input.std.");
      }
      JsonNode n = RunContext.json().readTree(ctx.readBytes(file));
      return new InputStatistics(n.get("sampled_images").asLong(), n.get("colour_images").asLong(),
          doubles(n.at("/grey/mean")), doubles(n.at("/grey/std")), doubles(n.at("/rgb/mean")), doubles(n.at("/rgb/std")));
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static List<Double> doubles(JsonNode array) {
    List<Double> out = new ArrayList<>();
    array.forEach(v -> out.add(v.asDouble()));
    return List.copyOf(out);
  }

  private static List<Double> list(double[] values) {
    List<Double> out = new ArrayList<>();
    for (double v : values) {
      out.add(Math.round(v * 1e6) / 1e6);
    }
    return List.copyOf(out);
  }

}
