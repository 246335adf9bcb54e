package io.semisup.core.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The computation of {@link GemPooling}: {@code y = (mean_{h,w} max(x, eps)^p)^(1/p)} per image
 * and channel, NCHW in, {@code [N, C]} out, for any height and width.
 *
 * <p>Why divided by the channel's maximum first: {@code x^p} overflows float for large p
 * (activations of 10 at p = 50), while {@code m * mean((x/m)^p)^(1/p)} with {@code m = max x} is
 * the same value and stays in [eps/m, 1] before the power. The backward pass uses the same
 * ratio: {@code dy/dx = (x / y)^(p-1) / (H W)} where {@code x > eps}, else 0.
 */
public class GemPoolingLayer extends AbstractLayer<GemPooling> {

  public GemPoolingLayer(NeuralNetConfiguration conf, DataType dataType) {
    super(conf, dataType);
  }

  @Override
  public boolean isPretrainLayer() {
    return false;
  }

  @Override
  public void clearNoiseWeightParams() {
    // no parameters
  }

  @Override
  public Type type() {
    return Type.SUBSAMPLING;
  }

  @Override
  public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
    assertInputSet(false);
    return workspaceMgr.leverageTo(ArrayType.ACTIVATIONS, pool(input, layerConf().getP()));
  }

  @Override
  public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
    assertInputSet(true);
    double p = layerConf().getP();
    INDArray x = input;
    long hw = x.size(2) * x.size(3);
    INDArray y = pool(x, p);
    INDArray clamped = Transforms.max(x, GemPooling.EPS, true);
    INDArray ratio = Broadcast.div(clamped, y, clamped.ulike(), 0, 1);
    INDArray grad = Transforms.pow(ratio, p - 1, false).divi(hw);
    grad.muli(x.gt(GemPooling.EPS).castTo(grad.dataType()));
    Broadcast.mul(grad, epsilon.castTo(grad.dataType()), grad, 0, 1);
    return new Pair<>(new DefaultGradient(), workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, grad));
  }

  /** GeM of an NCHW array over its spatial dimensions, {@code [N, C]}. */
  static INDArray pool(INDArray x, double p) {
    if (x.rank() != 4) {
      throw new IllegalArgumentException("Cannot GeM-pool an array of shape "
          + java.util.Arrays.toString(x.shape()) + ": need NCHW");
    }
    INDArray clamped = Transforms.max(x, GemPooling.EPS, true);
    INDArray max = clamped.max(2, 3);
    INDArray scaled = Broadcast.div(clamped, max, clamped, 0, 1);
    INDArray mean = Transforms.pow(scaled, p, false).mean(2, 3);
    return Transforms.pow(mean, 1.0 / p, false).muli(max);
  }

  @Override
  public Layer clone() {
    return new GemPoolingLayer(conf.clone(), dataType);
  }
}
