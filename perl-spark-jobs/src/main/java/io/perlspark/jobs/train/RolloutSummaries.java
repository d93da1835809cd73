package io.perlspark.jobs.train;

import io.perlspark.jobs.rollout.Rollout;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * What one rollout task sends to the driver: the {@link RolloutInfo} of each of its responses, as
 * parallel arrays in one object per task (Kryo writes arrays cheaply; a record per response would go
 * through Java serialisation one by one). Registered in {@code PerlKryoRegistrator}.
 */
public final class RolloutSummaries implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The task's partition among all of the step's rollout partitions (its place in the gradient sum). */
  private int partition;
  private String[] groupIds;
  private String[] ids;
  private int[] copies;
  private int[] indices;
  private double[] rewards;
  private double[] accuracies;
  private double[] formats;
  private int[] lengths;
  private boolean[] finished;
  private double[] logpSums;
  private String[] problems;
  private String[] answers;
  private String[] texts;

  /** For Kryo. */
  private RolloutSummaries() {}

  /** Summarises the rollouts of one partition. */
  static RolloutSummaries of(int partition, Iterator<Rollout> rows) {
    List<RolloutInfo> infos = new ArrayList<>();
    rows.forEachRemaining(r -> infos.add(RolloutInfo.of(r, partition)));
    int n = infos.size();
    RolloutSummaries s = new RolloutSummaries();
    s.partition = partition;
    s.groupIds = new String[n];
    s.ids = new String[n];
    s.copies = new int[n];
    s.indices = new int[n];
    s.rewards = new double[n];
    s.accuracies = new double[n];
    s.formats = new double[n];
    s.lengths = new int[n];
    s.finished = new boolean[n];
    s.logpSums = new double[n];
    s.problems = new String[n];
    s.answers = new String[n];
    s.texts = new String[n];
    for (int i = 0; i < n; i++) {
      RolloutInfo r = infos.get(i);
      s.groupIds[i] = r.groupId();
      s.ids[i] = r.id();
      s.copies[i] = r.copy();
      s.indices[i] = r.idx();
      s.rewards[i] = r.reward();
      s.accuracies[i] = r.accuracy();
      s.formats[i] = r.format();
      s.lengths[i] = r.length();
      s.finished[i] = r.finished();
      s.logpSums[i] = r.logpSum();
      s.problems[i] = r.problem();
      s.answers[i] = r.answer();
      s.texts[i] = r.text();
    }
    return s;
  }

  int partition() {
    return partition;
  }

  /** The responses, in the task's row order. */
  List<RolloutInfo> infos() {
    List<RolloutInfo> out = new ArrayList<>(ids.length);
    for (int i = 0; i < ids.length; i++) {
      out.add(new RolloutInfo(groupIds[i], ids[i], copies[i], indices[i], rewards[i], accuracies[i], formats[i],
          lengths[i], finished[i], logpSums[i], problems[i], answers[i], texts[i], partition));
    }
    return out;
  }
}
