package io.semisup.jobs.bench;

import io.semisup.core.image.ContentHash;
import io.semisup.core.image.FastImageDecoder;
import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.ImageRejectedException;
import io.semisup.core.image.ModelReadyEncoder;
import io.semisup.core.image.Preprocessor;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;

/**
 * Core-milliseconds per image of the per-image work of {@code score} (decode, resize, normalize)
 * and {@code shard} (decode to check, hash, re-encode for model-ready shards), on one thread, by
 * the thread's CPU time: other load on a shared machine slows the wall clock, not this. Each
 * measurement runs the images once untimed (JIT, native libraries) and then {@code rounds} times.
 */
final class DecodeMeter {

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private DecodeMeter() {}

  /** The decoders compared: ImageIO alone, and the configured fast path. */
  static FastImageDecoder imageio() {
    return new FastImageDecoder(new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE), FastImageDecoder.Kind.IMAGEIO);
  }

  static FastImageDecoder of(String kind) {
    return new FastImageDecoder(new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE), FastImageDecoder.Kind.of(kind));
  }

  /** CPU ms per image of decode (at the DCT scale covering the input) + resize + normalize. */
  static double scoreCoreMs(FastImageDecoder decoder, Preprocessor pre, List<byte[]> jpegs, int rounds)
      throws ImageRejectedException {
    int w = pre.spec().width();
    int h = pre.spec().height();
    float sink = 0;
    for (byte[] b : jpegs) {
      sink += pre.toChw(decoder.decode(b, w, h).image().image())[0];
    }
    long t0 = THREADS.getCurrentThreadCpuTime();
    for (int r = 0; r < rounds; r++) {
      for (byte[] b : jpegs) {
        sink += pre.toChw(decoder.decode(b, w, h).image().image())[0];
      }
    }
    long cpu = THREADS.getCurrentThreadCpuTime() - t0;
    if (Float.isNaN(sink)) {
      throw new IllegalStateException("NaN pixels");
    }
    return cpu / 1e6 / ((double) rounds * jpegs.size());
  }

  /** CPU ms and stored bytes per image of the shard stage's per-image work. */
  record ShardWork(double coreMs, double storedBytes) {}

  /**
   * The shard stage's per-image work as {@code ReadAndDecode} does it: without {@code encoder}
   * a check decode (1/8 scale on the fast path) and the hash; with it, a decode at the scale
   * the stored size needs, the hash and the re-encode.
   */
  static ShardWork shardCoreMs(FastImageDecoder decoder, ModelReadyEncoder encoder, List<byte[]> jpegs,
      int rounds) throws ImageRejectedException {
    long stored = 0;
    for (byte[] b : jpegs) {
      stored += shardOne(decoder, encoder, b);
    }
    long t0 = THREADS.getCurrentThreadCpuTime();
    for (int r = 0; r < rounds; r++) {
      for (byte[] b : jpegs) {
        shardOne(decoder, encoder, b);
      }
    }
    long cpu = THREADS.getCurrentThreadCpuTime() - t0;
    return new ShardWork(cpu / 1e6 / ((double) rounds * jpegs.size()), stored / (double) jpegs.size());
  }

  static long shardOne(FastImageDecoder decoder, ModelReadyEncoder encoder, byte[] b)
      throws ImageRejectedException {
    ContentHash.of(b);
    if (encoder == null) {
      decoder.decode(b, 1, 1);
      return b.length;
    }
    return encoder.store(b, decoder.decodeForLongSide(b, encoder.maxSide())).bytes().length;
  }
}
