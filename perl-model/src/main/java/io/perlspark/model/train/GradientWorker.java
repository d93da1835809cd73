package io.perlspark.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import io.perlspark.model.learn.FlatParameters;
import io.perlspark.model.loss.GrpoLoss;
import io.perlspark.model.loss.GrpoLossConfig;
import io.perlspark.model.loss.GrpoLossConfig.Aggregation;
import io.perlspark.model.loss.LossOutput;
import io.perlspark.model.loss.LossStats;
import io.perlspark.model.loss.SftLoss;
import io.perlspark.model.policy.Engines;
import io.perlspark.model.policy.PackedBatch;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.policy.ResponseTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Computes the gradient of a loss over a share of a mini-batch (the executor side of the update).
 *
 * <p>The examples are cut into micro-batches in list order; each is packed, run through the
 * training forward, and its loss, divided by the <b>global</b> normaliser of the whole mini-batch
 * (all partitions), is back-propagated; the gradients accumulate in the model's parameters and are
 * read out once at the end. So the result does not depend on the micro-batch size (up to float
 * rounding), and the sum of all partitions' results is the mini-batch gradient.
 *
 * <p>The whole computation holds {@link Engines#TRAINING_LOCK} (one gradient computation per
 * JVM). Every NDArray it makes lives in a per-micro-batch manager closed after backward, and every
 * gradient handle it opens is closed; the model's manager keeps only its parameters (and their
 * gradient buffers, which the next call zeroes).
 */
public final class GradientWorker {
  private GradientWorker() {}

  /**
   * GRPO gradients (docs/ARCHITECTURE.md "GRPO as implemented") of {@code examples}.
   *
   * @param normaliser the mini-batch's global normaliser for {@code cfg.aggregation()} (see {@link
   *     #normaliser(List, Aggregation)}), at least this share's own count
   * @param microBatch sequences per forward/backward pass, ≥ 1
   * @param temperature the rollout temperature: log-probs are taken under {@code softmax(logits /
   *     temperature)}, as the old log-probs were
   * @return the summed gradient (zeros for an empty list) and the merged loss statistics
   */
  public static GradientResult grpoGradients(
      PolicyModel model,
      List<TrainingExample> examples,
      GrpoLossConfig cfg,
      double normaliser,
      int microBatch,
      float temperature) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(examples, "examples");
    Objects.requireNonNull(cfg, "cfg");
    checkCommon(normaliser, microBatch);
    if (!(temperature > 0f) || Float.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be > 0 and finite, got " + temperature);
    }
    boolean allHaveReference = true;
    for (int i = 0; i < examples.size(); i++) {
      TrainingExample e = Objects.requireNonNull(examples.get(i), "example " + i);
      if (e.refLogProbs() == null) {
        allHaveReference = false;
        if (cfg.usesReference()) {
          throw new IllegalArgumentException(
              "example " + i + " has no refLogProbs but klCoef is " + cfg.klCoef()
                  + "; score the rollouts under the reference policy or set klCoef=0");
        }
      }
    }
    // Without a KL term the reference is optional; passed only when every example has one, so the
    // reported KL always covers the whole share.
    boolean withReference = allHaveReference && !examples.isEmpty();
    long shareUnits = normaliser(examples, cfg.aggregation());
    checkNormaliser(normaliser, shareUnits, cfg.aggregation());

    List<PackedBatch> batches = new ArrayList<>();
    for (int from = 0; from < examples.size(); from += microBatch) {
      List<TrainingExample> part = examples.subList(from, Math.min(examples.size(), from + microBatch));
      List<PolicyInput> prompts = new ArrayList<>(part.size());
      int[][] responses = new int[part.size()][];
      for (int i = 0; i < part.size(); i++) {
        prompts.add(part.get(i).prompt());
        responses[i] = part.get(i).response();
      }
      batches.add(model.pack(prompts, responses));
    }

    GrpoLoss loss = new GrpoLoss(cfg);
    List<Parameter> params = model.trainableParameters();
    LossStats stats = LossStats.EMPTY;
    double entropySum = 0;
    long tokens = 0;
    synchronized (Engines.TRAINING_LOCK) {
      Engines.zeroGradients(params);
      for (int k = 0; k < batches.size(); k++) {
        PackedBatch batch = batches.get(k);
        List<TrainingExample> part =
            examples.subList(k * microBatch, k * microBatch + batch.batchSize());
        int b = batch.batchSize();
        int t = batch.responseLength();
        float[] old = new float[b * t];
        float[] ref = withReference ? new float[b * t] : null;
        float[] advantages = new float[b];
        for (int i = 0; i < b; i++) {
          TrainingExample e = part.get(i);
          System.arraycopy(e.oldLogProbs(), 0, old, i * t, e.oldLogProbs().length);
          if (ref != null) {
            System.arraycopy(e.refLogProbs(), 0, ref, i * t, e.refLogProbs().length);
          }
          advantages[i] = (float) e.advantage();
        }
        try (NDManager m = NDManager.newBaseManager(model.device());
            GradientCollector collector = Engines.engine().newGradientCollector()) {
          ResponseTensors out = model.responseTensors(m, batch, temperature, true, true);
          NDArray mask = batch.responseMask(m);
          Shape shape = new Shape(b, t);
          LossOutput lo =
              loss.compute(
                  out.logProbs(),
                  m.create(old, shape),
                  ref == null ? null : m.create(ref, shape),
                  m.create(advantages),
                  mask,
                  normaliser);
          stats = stats.merge(lo.stats());
          entropySum += maskedSum(out.entropies(), mask);
          // An empty micro-batch has an exact zero loss: nothing to propagate.
          if (!lo.empty()) {
            collector.backward(lo.loss());
          }
        }
        tokens += batch.tokenCount();
      }
      return GradientResult.grpo(
          FlatParameters.gradients(params), stats, tokens, examples.size(), entropySum);
    }
  }

  /**
   * SFT (cross-entropy) gradients of {@code examples}, token-mean over the mini-batch.
   *
   * @param normaliser the mini-batch's total response-token count (see {@link
   *     #sftNormaliser(List)}), at least this share's own count
   * @param microBatch sequences per forward/backward pass, ≥ 1
   */
  public static GradientResult sftGradients(
      PolicyModel model, List<SftExample> examples, double normaliser, int microBatch) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(examples, "examples");
    checkCommon(normaliser, microBatch);
    long shareTokens = sftNormaliser(examples);
    checkNormaliser(normaliser, shareTokens, Aggregation.TOKEN_MEAN);

    List<PackedBatch> batches = new ArrayList<>();
    for (int from = 0; from < examples.size(); from += microBatch) {
      List<SftExample> part = examples.subList(from, Math.min(examples.size(), from + microBatch));
      List<PolicyInput> prompts = new ArrayList<>(part.size());
      int[][] responses = new int[part.size()][];
      for (int i = 0; i < part.size(); i++) {
        SftExample e = Objects.requireNonNull(part.get(i), "example " + (from + i));
        prompts.add(e.prompt());
        responses[i] = e.response();
      }
      batches.add(model.pack(prompts, responses));
    }

    List<Parameter> params = model.trainableParameters();
    SftStats stats = SftStats.EMPTY;
    double entropySum = 0;
    synchronized (Engines.TRAINING_LOCK) {
      Engines.zeroGradients(params);
      for (PackedBatch batch : batches) {
        try (NDManager m = NDManager.newBaseManager(model.device());
            GradientCollector collector = Engines.engine().newGradientCollector()) {
          ResponseTensors out = model.responseTensors(m, batch, 1f, true, true);
          NDArray mask = batch.responseMask(m);
          SftLoss.Output lo = SftLoss.fromTokenLogProbs(out.logProbs(), mask, normaliser);
          long sequences = 0;
          for (int len : batch.responseLengths()) {
            sequences += len > 0 ? 1 : 0;
          }
          double lossValue = normaliser > 0 ? lo.nllSum() / normaliser : 0.0;
          stats = stats.merge(new SftStats(lossValue, lo.tokens(), sequences, lo.nllSum()));
          entropySum += maskedSum(out.entropies(), mask);
          if (!lo.empty()) {
            collector.backward(lo.loss());
          }
        }
      }
      return GradientResult.sft(
          FlatParameters.gradients(params), stats, stats.tokens(), examples.size(), entropySum);
    }
  }

  /**
   * The global normaliser of a mini-batch from its response lengths alone (the driver knows them
   * without any model): total tokens for token-mean, sequences with ≥ 1 token for
   * seq-mean-token-mean.
   */
  public static double tokenNormaliser(List<int[]> responses, Aggregation aggregation) {
    Objects.requireNonNull(responses, "responses");
    Objects.requireNonNull(aggregation, "aggregation");
    int[] lengths = new int[responses.size()];
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = Objects.requireNonNull(responses.get(i), "response " + i).length;
    }
    return GrpoLoss.normaliser(aggregation, lengths);
  }

  /** {@link #tokenNormaliser} of the examples' responses. */
  public static long normaliser(List<TrainingExample> examples, Aggregation aggregation) {
    Objects.requireNonNull(aggregation, "aggregation");
    long total = 0;
    for (TrainingExample e : examples) {
      int n = e.response().length;
      total += aggregation == Aggregation.TOKEN_MEAN ? n : (n > 0 ? 1 : 0);
    }
    return total;
  }

  /** The SFT normaliser: the total response-token count of the examples. */
  public static long sftNormaliser(List<SftExample> examples) {
    long total = 0;
    for (SftExample e : examples) {
      total += e.response().length;
    }
    return total;
  }

  private static double maskedSum(NDArray values, NDArray mask) {
    // Padded positions hold finite values, so multiplying by the 0/1 mask removes them.
    return values.mul(mask).sum().toType(DataType.FLOAT64, false).getDouble();
  }

  private static void checkCommon(double normaliser, int microBatch) {
    if (microBatch < 1) {
      throw new IllegalArgumentException("microBatch must be >= 1, got " + microBatch);
    }
    if (!Double.isFinite(normaliser) || normaliser < 0) {
      throw new IllegalArgumentException("normaliser must be a finite value >= 0, got " + normaliser);
    }
  }

  private static void checkNormaliser(double normaliser, long shareUnits, Aggregation aggregation) {
    if (shareUnits > normaliser) {
      throw new IllegalArgumentException(
          "normaliser " + normaliser + " is smaller than this share's own "
              + (aggregation == Aggregation.TOKEN_MEAN ? "token" : "non-empty sequence")
              + " count " + shareUnits + "; pass the count of the whole mini-batch (all"
              + " partitions), e.g. GradientWorker.tokenNormaliser");
    }
  }
}
