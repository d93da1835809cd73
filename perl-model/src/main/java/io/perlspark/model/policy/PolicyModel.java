package io.perlspark.model.policy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import io.perlspark.model.tokenizer.TextTokenizer;
import java.util.List;
import java.util.Optional;

/**
 * A vision-language policy: samples responses to interleaved multi-image prompts, scores given
 * responses, and exposes a differentiable path and its parameters to the learner.
 *
 * <p>Each model family (see {@code io.perlspark.model.family}) has its own implementation, sequence
 * layout and parameter format; callers see only this interface and the family's recipe. Inference methods ({@link #generate}, {@link #score}) record no gradient and may be
 * called from several threads at once; gradient computations must hold {@link
 * Engines#TRAINING_LOCK}. {@link #loadParameters} and {@link #setFlatParameters} must not run
 * concurrently with anything else on the same model.
 */
public interface PolicyModel extends AutoCloseable {

  /**
   * Samples one response per prompt (see {@link GenerationOptions}: greedy when temperature is 0;
   * sequence {@code i} draws from {@code SplittableRandom(seeds[i])}). Stops at eos, {@code
   * maxNewTokens}, or when the sequence reaches {@code maxSeqLen}.
   */
  GenerationResult generate(List<PolicyInput> prompts, GenerationOptions options);

  /**
   * Per-token log-probabilities (and optionally entropies) of given responses under {@code
   * softmax(logits / temperature)}, without gradient; equal to {@link #responseTensors} on the
   * same packed batch.
   */
  TokenScores score(
      List<PolicyInput> prompts, int[][] responses, float temperature, boolean withEntropy);

  /**
   * Packs prompts and responses for {@link #responseTensors} in this model's own layout; the batch
   * is only valid for a model of the same family and sizes.
   */
  PackedBatch pack(List<PolicyInput> prompts, int[][] responses);

  /**
   * The differentiable path used for losses: {@code [B, T]} log-probabilities of the response
   * tokens (padded positions finite and meaningless), attached to {@code manager}. With a {@link
   * ai.djl.training.GradientCollector} open, backward reaches {@link #trainableParameters()}.
   *
   * @param training whether this is a training forward (the model has no dropout, so the values
   *     are the same either way)
   */
  default NDArray responseLogProbs(
      NDManager manager, PackedBatch batch, float temperature, boolean training) {
    return responseTensors(manager, batch, temperature, training, false).logProbs();
  }

  /** As {@link #responseLogProbs}, plus the (differentiable) per-token entropies if asked. */
  ResponseTensors responseTensors(
      NDManager manager,
      PackedBatch batch,
      float temperature,
      boolean training,
      boolean withEntropy);

  /** All parameters, exactly (bit for bit); see {@link #loadParameters}. */
  byte[] parametersToBytes();

  /**
   * Overwrites the parameters in place with {@link #parametersToBytes()} output of a model of the
   * same family and sizes (anything else is rejected before the first write). The {@link Parameter} objects and their arrays stay the same, so lists taken
   * from {@link #trainableParameters()} remain valid and keep their gradients attached.
   */
  void loadParameters(byte[] bytes);

  /** Every trainable parameter, in a fixed order; gradients are flattened in this order. */
  List<Parameter> trainableParameters();

  /** Total number of trainable scalars. */
  long parameterCount();

  /** All parameters concatenated in {@link #trainableParameters()} order. */
  float[] flatParameters();

  /** Overwrites all parameters in place from the layout of {@link #flatParameters()}. */
  void setFlatParameters(float[] values);

  Device device();

  /**
   * The longest sequence the model takes: prompt (images included, in the family's positions) plus
   * response.
   */
  int maxSequenceLength();

  /**
   * One line naming the family and the sizes or source of this model (e.g. for provenance and
   * logs); not parsed by anything.
   */
  String describe();

  TextTokenizer tokenizer();

  /**
   * Native memory this model object holds for its parameters, in bytes (weights as stored, plus
   * adapters); an adapter view ({@link #newAdapterView()}) counts only its own adapters, never the
   * base it shares. The default assumes float32 parameters that all belong to this model.
   */
  default long nativeBytes() {
    return parameterCount() * Float.BYTES;
  }

  /**
   * A second model over the SAME base weights with adapters of its own (initialised as this
   * model's fresh adapters; load others with {@link #loadParameters}), for a family that trains
   * adapters on a frozen base; empty for a full-parameter model, whose parameters are its weights.
   * The view's {@link #tokenizer()} is this model's. Closing the view frees only its adapters; the
   * base's native memory is freed when this model AND every view of it are closed (whichever
   * closes last), so neither can free weights under the other.
   */
  default Optional<PolicyModel> newAdapterView() {
    return Optional.empty();
  }

  /** Frees the parameters' native memory; the tokenizer is the caller's to close. */
  @Override
  void close();
}
