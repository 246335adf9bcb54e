package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.text;
import static io.semisup.jobs.config.Setting.whole;

import java.util.List;

/** Shard sizes and the limits that reject decompression bombs. */
public record ShardSettings(long targetShardBytes, long maxImageBytes, long maxImagePixels, long maxDecodeMillis, String reuseRun) {

  static final List<Setting> SCHEMA = List.of(
      whole("shard.target-shard-bytes", Range.atLeast(1), "Target size in bytes of one Parquet shard of image bytes."),
      whole("shard.max-image-bytes", Range.atLeast(1), "Images larger than this many bytes are rejected."),
      whole("shard.max-image-pixels", Range.atLeast(1), "Images with more pixels than this are rejected, from the header (decompression bombs)."),
      whole("shard.max-decode-millis", Range.atLeast(1), "CPU milliseconds one image may take to decode before it is rejected as TIMEOUT."),
      text("shard.reuse-run", "A run id of the same root whose decoded images are reused for files with the same uri, split and size, when decoded with the same limits (empty: read every file).").noResult());

  static ShardSettings from(SettingsReader r) {
    return new ShardSettings(r.longOf("shard.target-shard-bytes"), r.longOf("shard.max-image-bytes"),
        r.longOf("shard.max-image-pixels"), r.longOf("shard.max-decode-millis"), r.stringOf("shard.reuse-run"));
  }
}
