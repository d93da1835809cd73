package io.perlspark.jobs.train;

import io.perlspark.common.rl.GroupStats;
import java.util.List;

/** One GRPO group (an original prompt and its permuted copies) as drawn in a fill round. */
record GroupHandle(String groupId, int round, List<RolloutInfo> rollouts, GroupStats stats) {

  static GroupHandle of(String groupId, int round, List<RolloutInfo> rollouts) {
    double[] rewards = new double[rollouts.size()];
    double[] acc = new double[rollouts.size()];
    for (int i = 0; i < rewards.length; i++) {
      rewards[i] = rollouts.get(i).reward();
      acc[i] = rollouts.get(i).accuracy();
    }
    return new GroupHandle(groupId, round, rollouts, GroupStats.of(groupId, rewards, acc));
  }
}
