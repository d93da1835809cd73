package io.perlspark.jobs.permute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import io.perlspark.common.permute.DecaySchedule;
import io.perlspark.common.permute.Permuter;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.spark.SparkSessions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PermutationTransformTest {
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkSessions.create("PermutationTransformTest", "local[2]");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  static Dataset<Row> samples(int n, int partitions) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int images = 2 + i % 3;
      List<ImageRef> imgs = new ArrayList<>();
      StringBuilder prompt = new StringBuilder();
      for (int j = 0; j < images; j++) {
        imgs.add(ImageRef.ofBytes(new byte[] {(byte) i, (byte) j}));
        prompt.append("<image> ");
      }
      prompt.append("which image shows a red circle ?");
      Sample s = new Sample("s" + i, imgs, prompt.toString(), String.valueOf(1 + i % images), AnswerKind.IMAGE_INDEX,
          true, List.of(), "which_image", "test", List.of("multi"));
      rows.add(SampleSchema.toRow(s, null, 1 + i % images));
    }
    return spark.createDataFrame(rows, SampleSchema.SCHEMA).repartition(partitions);
  }

  static List<String> render(Dataset<Row> df) {
    List<String> out = new ArrayList<>();
    for (Row r : df.orderBy("id").collectAsList()) {
      Sample s = SampleSchema.fromRow(r);
      StringBuilder sb = new StringBuilder(s.id()).append('|').append(r.getAs("group_id").toString()).append('|')
          .append(s.answer()).append('|').append(r.getList(r.fieldIndex("perm_order"))).append('|')
          .append(r.getAs("answer_position").toString());
      for (ImageRef img : s.images()) {
        sb.append('|').append(img.bytes()[1]);
      }
      out.add(sb.toString());
    }
    return out;
  }

  @Test
  void outputDoesNotDependOnPartitioning() {
    PermutationTransform t = new PermutationTransform(
        Permuter.builder().setSeed(7).optCopies(2).optSchedule(DecaySchedule.constant(1.0)).build());
    List<String> one = render(t.transform(spark, samples(300, 1), 3, 10));
    List<String> many = render(t.transform(spark, samples(300, 7), 3, 10));
    assertEquals(900, one.size());
    assertEquals(one, many);
    List<String> otherStep = render(t.transform(spark, samples(300, 1), 4, 10));
    assertNotEquals(one, otherStep, "a different step draws different permutations");
  }

  @Test
  void originalAndCopiesShareAGroupAndCopiesPointAtTheSameImage() {
    PermutationTransform t = new PermutationTransform(
        Permuter.builder().setSeed(1).optCopies(1).optSchedule(DecaySchedule.constant(1.0)).build());
    List<Row> rows = t.transform(spark, samples(50, 3), 0, 10).collectAsList();
    Set<String> groups = new HashSet<>();
    for (Row r : rows) {
      Sample s = SampleSchema.fromRow(r);
      groups.add(r.getAs("group_id"));
      int answer = Integer.parseInt(s.answer());
      // Each image's second byte is its original slot; the answer image keeps its identity.
      String original = r.getAs("original_id");
      int originalAnswer = 1 + Integer.parseInt(original.substring(1)) % s.imageCount();
      assertEquals(originalAnswer - 1, s.images().get(answer - 1).bytes()[1]);
      assertEquals(answer, (int) r.<Integer>getAs("answer_position"));
    }
    assertEquals(50, groups.size());
    assertEquals(100, rows.size());
  }

  @Test
  void inputWithoutTheCanonicalSchemaIsRefusedBeforeWork() {
    Dataset<Row> bad = samples(3, 1).drop("answer_kind");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PermutationTransform.transformSchema(bad.schema()));
    assertTrue(e.getMessage().contains("answer_kind"));
  }
}
