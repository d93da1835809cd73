package io.perlspark.model.policy;

import ai.djl.engine.Engine;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import io.perlspark.model.learn.FlatParameters;
import java.util.List;

/**
 * The DJL engine this module runs on, and the rules for using it from several threads.
 *
 * <p><b>One gradient computation per JVM at a time.</b> DJL's {@code PtGradientCollector} is
 * JVM-wide: a second collector opened while one is collecting fails with "A PtGradientCollector
 * is already collecting" (shared/STACK.md). Every piece of code that opens a {@link
 * ai.djl.training.GradientCollector} (forward with {@code training=true} + backward) must hold
 * {@link #TRAINING_LOCK} for the whole forward/backward:
 *
 * <pre>{@code
 * synchronized (Engines.TRAINING_LOCK) {
 *   Engines.zeroGradients(model.trainableParameters());
 *   try (NDManager m = NDManager.newBaseManager(model.device());
 *       GradientCollector gc = Engines.engine().newGradientCollector()) {
 *     NDArray logp = model.responseLogProbs(m, batch, 1f, true);
 *     gc.backward(loss(logp));
 *   }
 *   // read the gradients of model.trainableParameters() here, still under the lock
 * }
 * }</pre>
 *
 * <p>Gradients <b>accumulate</b> across backward calls (PyTorch semantics): zero them before each
 * accumulation with {@link #zeroGradients} (this model's parameters only; DJL's {@code
 * GradientCollector.zeroGradients()} walks every array of the JVM and leaves a gradient handle
 * behind for each). {@code parameter.getArray().getGradient()} returns a new handle attached to
 * the model's manager; close it after reading.
 *
 * <p>Inference ({@code generate}, {@code score}) needs no lock and may run in parallel threads: it
 * turns PyTorch's grad mode off for its own thread only (see {@link #noGrad()}).
 */
public final class Engines {
  /** DJL's name of the PyTorch engine. */
  public static final String ENGINE_NAME = "PyTorch";

  /** Held by whoever computes gradients in this JVM (see the class comment). */
  public static final Object TRAINING_LOCK = new Object();

  private Engines() {}

  /** The PyTorch engine (loads libtorch on first use). */
  public static Engine engine() {
    return Engine.getEngine(ENGINE_NAME);
  }

  /** Sets the accumulated gradients of the parameters to zero (those with none are skipped). */
  public static void zeroGradients(List<Parameter> parameters) {
    // Writes zeros: subtracting a gradient from itself (what this did before) leaves NaN and inf in
    // place, so one non-finite backward poisoned a cached executor model for every later step.
    FlatParameters.zeroGradients(parameters);
  }

  /**
   * Turns autograd recording off for the calling thread until closed, then restores the previous
   * mode. PyTorch's grad mode is thread-local and on by default in threads that DJL did not
   * start, so inference on a Spark task thread would otherwise record graphs it never uses.
   */
  public static NoGrad noGrad() {
    engine();
    return new NoGrad();
  }

  /** Scope of {@link #noGrad()}. */
  public static final class NoGrad implements AutoCloseable {
    private final boolean previous;

    private NoGrad() {
      previous = JniUtils.isGradMode();
      JniUtils.setGradMode(false);
    }

    @Override
    public void close() {
      JniUtils.setGradMode(previous);
    }
  }
}
