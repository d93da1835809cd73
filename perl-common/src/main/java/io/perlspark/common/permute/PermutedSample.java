package io.perlspark.common.permute;

import io.perlspark.common.data.Sample;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * One member of a PeRL group: the original prompt (copy 0) or a permuted copy of it.
 *
 * @param sample the (possibly permuted) sample; its id is {@code originalId} for copy 0 and
 *     {@code originalId + "#p" + copy} otherwise
 * @param groupId the GRPO group: {@code originalId + "@" + step}, shared by the original and its copies
 * @param copy 0 for the original, 1..k for permuted copies
 * @param order {@code order[j]} = original slot of the image now at slot {@code j}
 * @param originalId the id of the sample the group was built from
 */
public record PermutedSample(Sample sample, String groupId, int copy, int[] order, String originalId)
    implements Serializable {

  public PermutedSample {
    Objects.requireNonNull(sample, "sample");
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(originalId, "originalId");
    order = Objects.requireNonNull(order, "order").clone();
    if (copy < 0) {
      throw new IllegalArgumentException("copy must be >= 0, got " + copy);
    }
  }

  /** A copy of the order (the record stays immutable). */
  @Override
  public int[] order() {
    return order.clone();
  }

  public boolean isOriginal() {
    return copy == 0;
  }

  /** The id of permuted copy {@code copy} of {@code originalId}. */
  public static String copyId(String originalId, int copy) {
    return copy == 0 ? originalId : originalId + "#p" + copy;
  }

  /** The GRPO group id of an original at a step. */
  public static String groupId(String originalId, long step) {
    return originalId + "@" + step;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PermutedSample p && copy == p.copy && sample.equals(p.sample) && groupId.equals(p.groupId)
        && originalId.equals(p.originalId) && Arrays.equals(order, p.order);
  }

  @Override
  public int hashCode() {
    return Objects.hash(sample, groupId, copy, originalId) * 31 + Arrays.hashCode(order);
  }

  @Override
  public String toString() {
    return "PermutedSample[" + sample.id() + ", group=" + groupId + ", copy=" + copy + ", order="
        + Arrays.toString(order) + ", answer=" + sample.answer() + "]";
  }
}
