package io.perlspark.jobs.train;

import io.perlspark.jobs.cli.PerlUserException;
import io.perlspark.jobs.rollout.PolicyRuntime;
import io.perlspark.model.checkpoint.Checkpoint;
import io.perlspark.model.checkpoint.CheckpointStore;
import io.perlspark.model.policy.TinyVlm;
import java.io.IOException;
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
    if (init == null || init.isBlank()) {
      try (TinyVlm fresh = runtime.build()) {
        return fresh.parametersToBytes();
      }
    }
    Checkpoint c = checkpoint(init, conf);
    ModelCheck.sameSpec(c.parameters(), runtime, "model.init " + init);
    return c.parameters();
  }

  public static Checkpoint checkpoint(String init, Configuration conf) {
    try {
      Path p = new Path(init);
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.exists(p)) {
        throw new PerlUserException("model.init: " + init + " does not exist");
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
        return store.loadLatestValid().orElseThrow(() ->
            new PerlUserException("model.init: no valid checkpoint under " + init));
      }
    } catch (IOException | NumberFormatException e) {
      throw new PerlUserException("model.init: cannot load " + init + ": " + e.getMessage(), e);
    }
  }

  /** Checks parameter bytes against the configured model sizes, naming what differs. */
  static final class ModelCheck {
    private ModelCheck() {}

    static void sameSpec(byte[] params, PolicyRuntime runtime, String what) {
      var spec = TinyVlm.specOf(params);
      if (!spec.equals(runtime.spec())) {
        throw new PerlUserException(what + " holds a model of sizes " + spec + " but the config asks for "
            + runtime.spec() + " (model.* keys)");
      }
    }
  }
}
