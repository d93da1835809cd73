package io.perlspark.jobs.train;

import io.perlspark.common.rl.BatchFiller;
import java.util.List;
import java.util.Map;

/** The rollout half of a step's metrics (docs/ARCHITECTURE.md "One training step"): rewards, accuracy, format, filtering, lengths. */
final class StepMetrics {
  private StepMetrics() {}

  static void rollouts(Map<String, Object> m, BatchFiller.FillResult<GroupHandle> fill, List<GroupHandle> kept) {
    double reward = 0;
    double reward2 = 0;
    double acc = 0;
    double format = 0;
    double length = 0;
    double finished = 0;
    double negLogp = 0;
    long tokens = 0;
    long n = 0;
    for (GroupHandle g : kept) {
      for (RolloutInfo r : g.rollouts()) {
        reward += r.reward();
        reward2 += r.reward() * r.reward();
        acc += r.accuracy();
        format += r.format();
        length += r.length();
        finished += r.finished() ? 1 : 0;
        negLogp -= r.logpSum();
        tokens += r.length();
        n++;
      }
    }
    double mean = n == 0 ? 0 : reward / n;
    m.put("reward_mean", mean);
    m.put("reward_std", n < 2 ? 0.0 : Math.sqrt(Math.max(0, (reward2 - n * mean * mean) / (n - 1))));
    m.put("accuracy_mean", n == 0 ? 0.0 : acc / n);
    m.put("format_rate", n == 0 ? 0.0 : format / n);
    m.put("response_len_mean", n == 0 ? 0.0 : length / n);
    m.put("finished_rate", n == 0 ? 0.0 : finished / n);
    // Mean negative log-prob of the sampled tokens: an unbiased estimate of the policy's entropy at T=1.
    m.put("entropy", tokens == 0 ? 0.0 : negLogp / tokens);
    m.put("responses", n);
    m.put("response_tokens", tokens);
    m.put("groups_kept", kept.size());
    m.put("groups_drawn", fill.groupsDrawn());
    m.put("fill_rounds", fill.rounds());
    m.put("batch_full", fill.full());
    Integer zero = fill.dropReasons().get("ZERO_VARIANCE");
    m.put("frac_zero_std", fill.groupsDrawn() == 0 ? 0.0 : (zero == null ? zeroStd(kept) : zero) / (double) fill.groupsDrawn());
    m.put("groups_dropped", fill.groupsDropped());
  }

  /** Zero-variance groups among those kept (when the filter is off, none are dropped but they still count). */
  private static int zeroStd(List<GroupHandle> kept) {
    int z = 0;
    for (GroupHandle g : kept) {
      if (g.stats().stdReward() == 0) {
        z++;
      }
    }
    return z;
  }
}
