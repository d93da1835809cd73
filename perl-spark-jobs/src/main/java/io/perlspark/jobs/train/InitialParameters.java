package io.perlspark.jobs.train;

import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.model.checkpoint.Checkpoint;
import io.perlspark.model.checkpoint.CheckpointException;
import io.perlspark.model.checkpoint.CheckpointStore;
import java.io.IOException;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Where a run's starting parameters come from: {@code model.init} names a checkpoint folder (a run's
 * {@code checkpoints/}, whose newest valid step is taken, or one {@code step-N/} inside it); without
 * it, a freshly initialised model seeded by the run seed.
 */
public final class InitialParameters {
  private InitialParameters() {}

  public static byte[] load(String init, PolicyRuntime runtime, Configuration conf) {
    return load(init, "model.init", runtime, conf);
  }

  /**
   * @param option how the user named {@code init} ({@code model.init}, {@code --checkpoint}), for
   *     error messages
   */
  public static byte[] load(String init, String option, PolicyRuntime runtime, Configuration conf) {
    if (init == null || init.isBlank()) {
      return runtime.initialParameters();
    }
    Checkpoint c = checkpoint(init, option, conf);
    RunProvenance.checkSameBase(c, runtime.recipe(), option + " " + init,
        "Point model.path at that base, or use a checkpoint trained on this one.");
    ModelCheck.sameSpec(c.parameters(), runtime, option + " " + init);
    return c.parameters();
  }

  public static Checkpoint checkpoint(String init, Configuration conf) {
    return checkpoint(init, "model.init", conf);
  }

  /**
   * One step folder is loaded as it is (a damaged one is an error naming the file); a run's folder
   * or its {@code checkpoints/} gives its newest checkpoint that verifies.
   */
  public static Checkpoint checkpoint(String init, String option, Configuration conf) {
    try {
      Path p = new Path(init);
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.exists(p)) {
        throw new PerlUserException(option + ": " + init + " does not exist");
      }
      if (fs.exists(new Path(p, CheckpointStore.MANIFEST))) {
        String name = p.getName();
        long step = Long.parseLong(name.substring(name.lastIndexOf('-') + 1));
        try (CheckpointStore store = new CheckpointStore(p.getParent().toString(), conf)) {
          return store.load(step);
        }
      }
      Path base = fs.exists(new Path(p, "checkpoints")) ? new Path(p, "checkpoints") : p;
      try (CheckpointStore store = new CheckpointStore(base.toString(), conf)) {
        var latest = store.loadLatestValid();
        if (latest.isPresent()) {
          return latest.get();
        }
        List<Long> steps = store.steps();
        if (steps.isEmpty()) {
          throw new PerlUserException(option + ": no checkpoint under " + init);
        }
        try {
          store.load(steps.get(steps.size() - 1));
        } catch (CheckpointException e) {
          throw new PerlUserException(option + ": none of the " + steps.size() + " checkpoints under " + init
              + " verifies; newest: " + e.getMessage(), e);
        }
        throw new PerlUserException(option + ": no valid checkpoint under " + init);
      }
    } catch (IOException | NumberFormatException e) {
      throw new PerlUserException(option + ": cannot load " + init + ": " + e.getMessage(), e);
    }
  }

  /** Checks parameter bytes against the configured model, naming what differs. */
  static final class ModelCheck {
    private ModelCheck() {}

    static void sameSpec(byte[] params, PolicyRuntime runtime, String what) {
      try {
        runtime.checkParameters(params);
      } catch (IllegalArgumentException e) {
        throw new PerlUserException(what + " " + e.getMessage(), e);
      }
    }
  }
}
