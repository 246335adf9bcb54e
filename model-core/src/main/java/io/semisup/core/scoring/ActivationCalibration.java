package io.semisup.core.scoring;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.semisup.core.image.InputSpec;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;

/**
 * The value ranges of a model's intermediate tensors on sample images: what {@link Int8Quantizer}
 * turns into the scales and zero points of the activations. The FP32 graph runs in ONNX Runtime
 * with the wanted tensors added as graph outputs (no graph optimization, so every named tensor
 * still exists), one batch at a time, on one thread (deterministic).
 *
 * <p>Two ways to turn the values into a range: {@link Method#MINMAX} (the extremes seen; no
 * value is clipped, but one outlier widens the step for all) and {@link Method#PERCENTILE} (per
 * batch the {@code p}-th and {@code (100 - p)}-th percentiles of a strided sample of at most
 * {@value #SAMPLE} values, averaged over batches; clips the rare extremes for a finer step).
 */
public final class ActivationCalibration {

  /** How a tensor's values become its range. */
  public enum Method {
    MINMAX,
    PERCENTILE;

    /** The method named {@code s} (case-insensitive): minmax or percentile. */
    public static Method of(String s) {
      return valueOf(s.toUpperCase(java.util.Locale.ROOT));
    }
  }

  /** Values per tensor and batch the percentile method sorts. */
  static final int SAMPLE = 1 << 16;

  /** The range of one tensor's values; {@code min <= max}. */
  public record Range(float min, float max) {}

  private ActivationCalibration() {}

  /**
   * Runs {@code model} on {@code images} and returns the range of each of {@code tensors}.
   *
   * @param images CHW tensors of {@code spec}, preprocessed as for scoring
   * @param batch images per inference (memory: every listed tensor of a batch is held at once)
   * @param percentile for {@link Method#PERCENTILE}: e.g. 99.99
   */
  public static Map<String, Range> measure(ModelProto model, List<String> tensors, float[][] images,
      InputSpec spec, Method method, double percentile, int batch) {
    Objects.requireNonNull(method, "method");
    if (images.length == 0) {
      throw new IllegalArgumentException("Cannot calibrate on no images: give at least one");
    }
    if (batch < 1 || !(percentile > 50 && percentile <= 100)) {
      throw new IllegalArgumentException("Cannot calibrate with batch " + batch + " and percentile "
          + percentile + ": need batch >= 1 and 50 < percentile <= 100");
    }
    GraphProto.Builder g = model.getGraph().toBuilder();
    java.util.Set<String> outputs = new java.util.HashSet<>();
    g.getOutputList().forEach(o -> outputs.add(o.getName()));
    for (String t : tensors) {
      if (!outputs.contains(t)) {
        g.addOutput(ValueInfoProto.newBuilder().setName(t).setType(TypeProto.newBuilder()
            .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))));
      }
    }
    byte[] exposed = model.toBuilder().setGraph(g).build().toByteArray();
    Map<String, float[]> acc = new LinkedHashMap<>();
    for (String t : tensors) {
      acc.put(t, method == Method.MINMAX
          ? new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}
          : new float[] {0, 0});
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    int batches = 0;
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
      // One thread: the same images give bit-identical ranges (and INT8 bytes) on every run,
      // so a resumed score stage finds its own progress again.
      so.setIntraOpNumThreads(1);
      try (OrtSession session = env.createSession(exposed, so)) {
        String input = session.getInputNames().iterator().next();
        for (int from = 0; from < images.length; from += batch) {
          int n = Math.min(batch, images.length - from);
          FloatBuffer in = FloatBuffer.allocate(n * spec.size());
          for (int i = 0; i < n; i++) {
            in.put(images[from + i]);
          }
          in.flip();
          try (OnnxTensor x = OnnxTensor.createTensor(env, in,
                  new long[] {n, spec.channels(), spec.height(), spec.width()});
              OrtSession.Result r = session.run(Map.of(input, x), new java.util.HashSet<>(tensors))) {
            for (String t : tensors) {
              OnnxValue v = r.get(t).orElseThrow(() -> new IllegalStateException(
                  "Cannot calibrate: ONNX Runtime returned no tensor '" + t + "'"));
              float[] values = toArray(((OnnxTensor) v).getFloatBuffer());
              float[] a = acc.get(t);
              if (method == Method.MINMAX) {
                for (float f : values) {
                  a[0] = Math.min(a[0], f);
                  a[1] = Math.max(a[1], f);
                }
              } else {
                float[] lohi = percentiles(values, percentile);
                a[0] += lohi[0];
                a[1] += lohi[1];
              }
            }
          }
          batches++;
        }
      }
    } catch (OrtException e) {
      throw new IllegalStateException("Cannot calibrate the model in ONNX Runtime: " + e.getMessage(), e);
    }
    Map<String, Range> ranges = new HashMap<>();
    for (Map.Entry<String, float[]> e : acc.entrySet()) {
      float[] a = e.getValue();
      ranges.put(e.getKey(), method == Method.MINMAX
          ? new Range(a[0], a[1])
          : new Range(a[0] / batches, a[1] / batches));
    }
    return ranges;
  }

  private static float[] toArray(FloatBuffer b) {
    float[] a = new float[b.remaining()];
    b.get(a);
    return a;
  }

  /** The (100 - p)-th and p-th percentiles of a strided sample of {@code values}. */
  static float[] percentiles(float[] values, double p) {
    int stride = Math.max(1, values.length / SAMPLE);
    float[] s = new float[(values.length + stride - 1) / stride];
    for (int i = 0, j = 0; i < values.length; i += stride, j++) {
      s[j] = values[i];
    }
    Arrays.sort(s);
    int hi = (int) Math.min(s.length - 1, Math.ceil(p / 100.0 * s.length) - 1);
    int lo = (int) Math.max(0, Math.floor((100.0 - p) / 100.0 * s.length));
    return new float[] {s[lo], s[Math.max(hi, lo)]};
  }
}
