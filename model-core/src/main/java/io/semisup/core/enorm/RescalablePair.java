package io.semisup.core.enorm;

/**
 * Two layers whose shared hidden units can be rescaled without changing the network's function:
 * every output unit (neuron or channel) of {@code producer} reaches {@code consumer}, and only
 * {@code consumer}, through positively homogeneous, channel-wise operations (ReLU, identity,
 * leaky ReLU, max or average pooling), so multiplying the unit's incoming weights and bias by
 * d &gt; 0 and dividing its outgoing weights by d leaves every output as it was.
 *
 * @param producer name of the layer whose output units are rescaled (incoming side)
 * @param producerConv whether it is a convolution (weights [nOut, nIn, kH, kW]) rather than a
 *     dense layer (weights [nIn, nOut])
 * @param consumer name of the layer that reads those units (outgoing side)
 * @param consumerConv whether it is a convolution rather than a dense layer
 * @param units hidden units (neurons or channels) between the two
 */
public record RescalablePair(
    String producer, boolean producerConv, String consumer, boolean consumerConv, int units) {

  @Override
  public String toString() {
    return producer + " -> " + consumer + " (" + units + " units)";
  }
}
