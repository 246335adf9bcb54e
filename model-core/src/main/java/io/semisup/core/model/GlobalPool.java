package io.semisup.core.model;

import java.io.Serializable;
import java.util.List;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;

/**
 * The global pooling before a network's classifier: average (the default) or GeM with a fixed
 * exponent ({@link GemPooling}). Every architecture of {@link Architectures} takes one, so the
 * choice is a setting ({@code model.pooling}, {@code model.gem-p}) rather than a new network
 * name. The pooled vector is the network's image embedding (the layer {@link Architectures#POOL}).
 *
 * @param kind {@code "avg"} or {@code "gem"}
 * @param p GeM's exponent (ignored for avg)
 */
public record GlobalPool(String kind, double p) implements Serializable {

  /** Valid {@link #kind}s, the default first. */
  public static final List<String> KINDS = List.of("avg", "gem");

  /** Average pooling, what every architecture had before GeM. */
  public static final GlobalPool AVG = new GlobalPool("avg", 1);

  public GlobalPool {
    if (!KINDS.contains(kind)) {
      throw new IllegalArgumentException("Cannot pool with '" + kind + "': valid are " + KINDS);
    }
    if (!(p >= 1) || Double.isInfinite(p)) {
      throw new IllegalArgumentException("Cannot pool with GeM exponent " + p + ": need a finite p >= 1");
    }
  }

  /** GeM pooling with exponent p. */
  public static GlobalPool gem(double p) {
    return new GlobalPool("gem", p);
  }

  /** The DL4J layer configuration of this pooling. */
  public Layer layer() {
    return "gem".equals(kind) ? new GemPooling(p)
        : new GlobalPoolingLayer.Builder(PoolingType.AVG).build();
  }

  @Override
  public String toString() {
    return "gem".equals(kind) ? "gem(p=" + p + ")" : kind;
  }
}
