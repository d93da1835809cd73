package io.perlspark.jobs.train;

import io.perlspark.common.Seeds;
import io.perlspark.common.config.AlgorithmConfig;
import io.perlspark.common.config.OnlineFilterConfig;
import io.perlspark.common.config.PermutationConfig;
import io.perlspark.common.config.RewardConfig;
import io.perlspark.common.config.TrainerConfig;
import io.perlspark.common.permute.DecaySchedule;
import io.perlspark.common.permute.Permuter;
import io.perlspark.common.reward.ResponseFormat;
import io.perlspark.common.reward.RewardFunction;
import io.perlspark.common.reward.Rewards;
import io.perlspark.common.rl.FilterMetric;
import io.perlspark.common.rl.GroupFilter;
import io.perlspark.model.learn.LrSchedule;
import io.perlspark.model.loss.GrpoLossConfig;

/** Builds the named pieces the training loop calls from the validated run config. */
final class Pieces {
  private Pieces() {}

  static Permuter permuter(PermutationConfig p, long seed, int stageIndex) {
    int copies = p.enabled() ? p.copies() : 0;
    return Permuter.builder().setSeed(Seeds.derive(seed, 0x9e7_0000L + stageIndex)).optSlots(p.slots()).optCopies(copies)
        .optSchedule(DecaySchedule.parse(p.schedule(), p.p0(), p.pMin(), p.decayRate(), p.power())).build();
  }

  static GroupFilter onlineFilter(OnlineFilterConfig f) {
    return f.enabled() ? new GroupFilter(true, FilterMetric.parse(f.metric()), f.minGroupAcc(), f.maxGroupAcc())
        : GroupFilter.disabled();
  }

  static RewardFunction reward(RewardConfig r) {
    return Rewards.standard(r.accuracyWeight(), r.formatWeight(), ResponseFormat.parse(r.format()));
  }

  static GrpoLossConfig loss(AlgorithmConfig a) {
    return GrpoLossConfig.builder().setClipLow(a.clipLow()).setClipHigh(a.clipHigh()).optDualClip(a.dualClip())
        .setKlCoef(a.klCoef()).setKlEstimator(GrpoLossConfig.KlEstimator.parse(a.klEstimator()))
        .setAggregation(GrpoLossConfig.Aggregation.parse(a.lossAgg())).build();
  }

  static LrSchedule schedule(TrainerConfig t, long totalSteps) {
    return LrSchedule.parse(t.lrSchedule(), t.lr(), t.warmupSteps(), totalSteps, t.minLrRatio());
  }
}
