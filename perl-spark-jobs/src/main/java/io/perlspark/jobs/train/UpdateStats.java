package io.perlspark.jobs.train;

import io.perlspark.model.loss.LossStats;
import io.perlspark.model.train.GradientResult;
import io.perlspark.model.train.StepReport;
import java.util.Map;

/** The update half of a step's metrics, over all its mini-batch updates. */
final class UpdateStats {
  private LossStats loss = LossStats.EMPTY;
  private double entropySum;
  private long tokens;
  private double gradNormSum;
  private double lr;
  private int updates;
  private int skipped;
  private int clipped;
  private double lossSum;

  void add(GradientResult g, StepReport r) {
    if (g.stats() != null) {
      loss = loss.merge(g.stats());
    }
    entropySum += g.entropySum();
    tokens += g.tokens();
    lossSum += g.loss();
    gradNormSum += Double.isFinite(r.gradNorm()) ? r.gradNorm() : 0;
    lr = r.lr();
    updates++;
    skipped += r.skipped() ? 1 : 0;
    clipped += r.clipped() ? 1 : 0;
  }

  void into(Map<String, Object> m) {
    m.put("updates", updates);
    m.put("updates_skipped", skipped);
    m.put("updates_clipped", clipped);
    m.put("lr", lr);
    m.put("loss", updates == 0 ? 0.0 : lossSum / updates);
    m.put("pg_loss", loss.empty() ? 0.0 : loss.pgLoss());
    m.put("kl", loss.empty() ? 0.0 : loss.kl());
    m.put("clip_frac", loss.empty() ? 0.0 : loss.clipFraction());
    m.put("dual_clip_frac", loss.empty() ? 0.0 : loss.dualClipFraction());
    m.put("ratio_mean", loss.empty() ? 1.0 : loss.ratioMean());
    m.put("entropy_update", tokens == 0 ? 0.0 : entropySum / tokens);
    m.put("grad_norm", updates == 0 ? 0.0 : gradNormSum / updates);
  }
}
