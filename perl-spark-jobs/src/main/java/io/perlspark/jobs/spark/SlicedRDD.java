package io.perlspark.jobs.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.NarrowDependency;
import org.apache.spark.Partition;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.PartitionCoalescer;
import org.apache.spark.rdd.PartitionGroup;
import org.apache.spark.rdd.RDD;
import scala.Option;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;

/**
 * A parent's partitions cut into consecutive slices of at most {@code sliceSize} elements, one
 * partition (one task) per slice, without a shuffle: slice j of parent partition p holds elements
 * [j * sliceSize, (j + 1) * sliceSize) of p, in p's order. Lets two task slots share the work of
 * unequal parent partitions while every slice is exactly what a task over the whole parent
 * partition would have cut (e.g. a rollout worker's generation batches). {@link #regroup} puts the
 * slices back together: one partition per parent partition.
 */
public final class SlicedRDD<T> extends RDD<T> {
  private static final long serialVersionUID = 1L;

  private final int[] parentOf;
  private final int[] sliceOf;
  private final int sliceSize;

  private SlicedRDD(RDD<T> parent, int[] parentOf, int[] sliceOf, int sliceSize, ClassTag<T> tag) {
    super(parent.context(), CollectionConverters.asScala(List.<org.apache.spark.Dependency<?>>of(
        new SliceDependency<>(parent, parentOf))).toSeq(), tag);
    this.parentOf = parentOf;
    this.sliceOf = sliceOf;
    this.sliceSize = sliceSize;
  }

  /**
   * @param slices how many slices each parent partition gets (its element count over {@code
   *     sliceSize}, rounded up; a bound is fine: slices past the end are empty)
   */
  public static <T> JavaRDD<T> of(JavaRDD<T> parent, int[] slices, int sliceSize) {
    if (slices.length != parent.getNumPartitions() || sliceSize < 1) {
      throw new IllegalArgumentException("need one slice count per parent partition (" + parent.getNumPartitions()
          + ", got " + slices.length + ") and sliceSize >= 1 (got " + sliceSize + ")");
    }
    int[][] layout = layout(slices);
    return new SlicedRDD<>(parent.rdd(), layout[0], layout[1], sliceSize, parent.classTag()).toJavaRDD();
  }

  /** The parent partition of each partition of {@link #of}'s result. */
  public static int[] parentsOf(int[] slices) {
    return layout(slices)[0];
  }

  /**
   * Partition i is slice layout[1][i] of parent partition layout[0][i]: first slices of every
   * parent first, then second slices, and so on. Tasks start in partition order, so the (often
   * shorter) last slices run last and fill in whichever slot is free.
   */
  private static int[][] layout(int[] slices) {
    List<Integer> parents = new ArrayList<>();
    List<Integer> indices = new ArrayList<>();
    int most = java.util.Arrays.stream(slices).max().orElse(0);
    for (int j = 0; j < most; j++) {
      for (int p = 0; p < slices.length; p++) {
        if (j < slices[p]) {
          parents.add(p);
          indices.add(j);
        }
      }
    }
    return new int[][] {parents.stream().mapToInt(Integer::intValue).toArray(),
      indices.stream().mapToInt(Integer::intValue).toArray()};
  }

  @Override
  public Iterator<T> compute(Partition split, TaskContext context) {
    Slice slice = (Slice) split;
    Iterator<T> all = firstParent(elementClassTag()).iterator(slice.parent, context);
    return all.drop(slice.slice * sliceSize).take(sliceSize);
  }

  /** On the driver: each slice carries its parent partition (executors cannot list a parent's partitions). */
  @Override
  public Partition[] getPartitions() {
    Partition[] parents = firstParent(elementClassTag()).partitions();
    Partition[] out = new Partition[parentOf.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = new Slice(i, parents[parentOf[i]], sliceOf[i]);
    }
    return out;
  }

  /**
   * {@code rdd} with its partitions grouped, without a shuffle: partition g reads {@code
   * groups[g]}'s partitions of {@code rdd}, in that order.
   */
  public static <T> JavaRDD<T> regroup(JavaRDD<T> rdd, int[][] groups) {
    RDD<T> grouped = rdd.rdd().coalesce(groups.length, false, Option.apply(new Groups(groups)), null);
    return JavaRDD.fromRDD(grouped, rdd.classTag());
  }

  private static final class Slice implements Partition {
    private static final long serialVersionUID = 1L;
    private final int index;
    private final Partition parent;
    private final int slice;

    Slice(int index, Partition parent, int slice) {
      this.index = index;
      this.parent = parent;
      this.slice = slice;
    }

    @Override
    public int index() {
      return index;
    }

    @Override
    public int hashCode() {
      return index;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Slice s && s.index == index;
    }
  }

  private static final class SliceDependency<T> extends NarrowDependency<T> {
    private static final long serialVersionUID = 1L;
    private final int[] parentOf;

    SliceDependency(RDD<T> parent, int[] parentOf) {
      super(parent);
      this.parentOf = parentOf;
    }

    @Override
    public scala.collection.immutable.Seq<Object> getParents(int partitionId) {
      return CollectionConverters.asScala(List.<Object>of(parentOf[partitionId])).toList();
    }
  }

  private static final class Groups implements PartitionCoalescer, java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final int[][] groups;

    Groups(int[][] groups) {
      this.groups = groups;
    }

    @Override
    public PartitionGroup[] coalesce(int maxPartitions, RDD<?> parent) {
      PartitionGroup[] out = new PartitionGroup[groups.length];
      for (int g = 0; g < groups.length; g++) {
        out[g] = new PartitionGroup(Option.empty());
        for (int i : groups[g]) {
          out[g].partitions().$plus$eq(parent.partitions()[i]);
        }
      }
      return out;
    }
  }
}
