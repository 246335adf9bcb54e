package io.semisup.core.enorm;

import io.semisup.core.UsageError;
import java.util.HashMap;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * The SGD momentum buffer of each parameter of a graph, shaped like the parameter, as views into
 * the updater's state (writes go to the state the next step reads).
 *
 * <p>Why it is needed: after ENorm rescales a unit's weights, the gradient with respect to them
 * scales the other way (incoming by 1/d, outgoing by d), and the momentum buffer is a running sum
 * of gradients, so it must be rescaled the same way or the next step mixes two bases.
 *
 * <p>How DL4J lays it out: the updater groups consecutive parameters with the same updater
 * configuration into {@link UpdaterBlock}s; a {@link Nesterovs} block's state is one velocity
 * value per parameter value, in the order of the block's flattened parameters, and each
 * parameter's shaped view is a reshape of its flat segment in the parameter's own order ('f' for
 * dense weights, 'c' for convolution kernels). {@link Sgd} and {@link NoOp} blocks have no state.
 * Any other updater (Adam, ...) is refused: its state does not rescale linearly.
 */
final class MomentumState {

  private MomentumState() {}

  /**
   * Velocity views keyed by {@code layerName + "/" + paramName}; parameters without momentum
   * are absent.
   *
   * @throws UsageError when a parameter uses an updater other than SGD or Nesterov momentum
   */
  static Map<String, INDArray> of(ComputationGraph g) {
    Map<String, INDArray> views = new HashMap<>();
    if (g.getUpdater() == null) {
      return views;
    }
    for (UpdaterBlock block : g.getUpdater().getUpdaterBlocks()) {
      UpdaterBlock.ParamState first = block.getLayersAndVariablesInBlock().get(0);
      IUpdater updater = first.getLayer().getConfig().getUpdaterByParam(first.getParamName());
      if (updater instanceof Sgd || updater instanceof NoOp) {
        continue;
      }
      if (!(updater instanceof Nesterovs)) {
        throw new UsageError("Cannot equi-normalize a graph trained with "
            + updater.getClass().getSimpleName() + " (layer " + first.getLayer().getConfig()
            .getLayerName() + "): ENorm rescales only SGD's momentum. Set enorm-c = 0 or train"
            + " with SGD/Nesterov momentum");
      }
      INDArray state = block.getUpdaterView();
      if (state == null) {
        continue; // no step taken yet: nothing to rescale
      }
      INDArray flat = state.reshape(state.length());
      for (UpdaterBlock.ParamState p : block.getLayersAndVariablesInBlock()) {
        String layerName = p.getLayer().getConfig().getLayerName();
        INDArray param = g.getLayer(layerName).getParam(p.getParamName());
        long from = p.getParamOffsetStart() - block.getParamOffsetStart();
        long to = p.getParamOffsetEnd() - block.getParamOffsetStart();
        INDArray segment = flat.get(NDArrayIndex.interval(from, to));
        views.put(layerName + "/" + p.getParamName(), segment.reshape(param.ordering(), param.shape()));
      }
    }
    return views;
  }
}
