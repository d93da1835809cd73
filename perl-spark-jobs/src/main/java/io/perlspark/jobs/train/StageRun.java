package io.perlspark.jobs.train;

import io.perlspark.common.config.RolloutConfig;
import io.perlspark.common.config.StageConfig;
import io.perlspark.common.permute.Permuter;
import io.perlspark.common.rl.GroupFilter;

/**
 * What every step of a stage works from: the stage's cached prompts and their cursor, and the
 * stage's permutation, online filter and rollout settings.
 *
 * @param maxRounds rollout rounds per step (1 + refills; 1 when the online filter is off)
 * @param steps the stage's length in steps (the permutation schedule's horizon)
 */
record StageRun(StageConfig stage, StageData data, PromptCursor cursor, Permuter permuter, GroupFilter groupFilter,
    int maxRounds, RolloutConfig rollout, long steps) {}
