package io.perlspark.jobs.train;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** The console progress bar (with ETA) of long jobs; drawn on stderr so stdout stays parseable. */
final class Progress {
  private Progress() {}

  static ProgressBar bar(String task, long total, long done, boolean visible) {
    ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).startsFrom(done,
        java.time.Duration.ZERO).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).showSpeed();
    if (visible) {
      b.setConsumer(new ConsoleProgressBarConsumer(System.err));
    } else {
      b.setConsumer(new me.tongfei.progressbar.DelegatingProgressBarConsumer(s -> { }));
    }
    return b.build();
  }
}
