package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.choice;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.text;
import static io.semisup.jobs.config.Setting.whole;

import java.util.List;

/**
 * Shard sizes, the limits that reject decompression bombs, the decoder, and model-ready storage
 * (images stored re-encoded at {@code maxSide}).
 */
public record ShardSettings(long targetShardBytes, long maxImageBytes, long maxImagePixels, long maxDecodeMillis,
    String decoder, int maxSide, int storedQuality, String reuseRun) {

  static final List<Setting> SCHEMA = List.of(
      whole("shard.target-shard-bytes", Range.atLeast(1), "Target size in bytes of one Parquet shard of image bytes."),
      whole("shard.max-image-bytes", Range.atLeast(1), "Images larger than this many bytes are rejected."),
      whole("shard.max-image-pixels", Range.atLeast(1), "Images with more pixels than this are rejected, from the header (decompression bombs)."),
      whole("shard.max-decode-millis", Range.atLeast(1), "CPU milliseconds one image may take to decode before it is rejected as TIMEOUT."),
      choice("shard.decoder", List.of("auto", "opencv", "imageio"), "JPEG decoder: opencv (libjpeg-turbo, plain baseline JPEGs only), imageio (ImageIO + TwelveMonkeys), auto (opencv where its natives load)."),
      integer("shard.max-side", Range.atLeast(0), "Model-ready shards: images with a longer side are stored re-encoded as JPEG at this longest side (0: store the original bytes)."),
      integer("shard.stored-quality", Range.closed(1, 100), "JPEG quality of the images shard.max-side re-encodes."),
      text("shard.reuse-run", "A run id of the same root whose decoded images are reused for files with the same uri, split and size, when decoded with the same limits, decoder and storage (empty: read every file).").noResult());

  static ShardSettings from(SettingsReader r) {
    return new ShardSettings(r.longOf("shard.target-shard-bytes"), r.longOf("shard.max-image-bytes"),
        r.longOf("shard.max-image-pixels"), r.longOf("shard.max-decode-millis"), r.stringOf("shard.decoder"),
        r.intOf("shard.max-side"), r.intOf("shard.stored-quality"), r.stringOf("shard.reuse-run"));
  }
}
