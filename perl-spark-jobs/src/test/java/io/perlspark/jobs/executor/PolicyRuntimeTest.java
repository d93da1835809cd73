package io.perlspark.jobs.executor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.model.policy.PolicyModel;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class PolicyRuntimeTest {

  @Test
  void buildsTheConfiguredFamilyWithoutNamingIt() {
    PolicyRuntime runtime = PolicyRuntime.from(PerlConfig.defaults().model(), 42);
    assertEquals("builtin", runtime.family());
    assertEquals(runtime, PolicyRuntime.from(PerlConfig.defaults().model(), 42));
    try (PolicyModel model = runtime.build()) {
      assertEquals(128, model.maxSequenceLength());
      runtime.checkParameters(model.parametersToBytes());
      assertArrayEquals(model.parametersToBytes(), runtime.initialParameters());
      assertEquals(model.tokenizer().imageId(),
          runtime.promptProcessor(model).process("<image> which ?", List.of(png())).promptTokens()[0]);
    }
  }

  @Test
  void aFamilyThatCannotBeBuiltIsAConfigErrorOnItsKey() {
    ConfigException e =
        assertThrows(ConfigException.class,
            () -> PolicyRuntime.from(
                ConfigLoader.load(null, List.of("model.tokenizer=/no/tokenizer.json")).model(), 1));
    assertEquals("model.tokenizer", e.key());
  }

  @Test
  void beforeASessionSparkHadoopSystemPropertiesApply() {
    assumeTrue(SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty(),
        "a Spark session of another test is still open");
    System.setProperty("spark.hadoop.fs.perl.test.marker", "from-spark-submit");
    try {
      assertEquals("from-spark-submit",
          PolicyRuntime.sparkHadoopConfiguration().get("fs.perl.test.marker"));
    } finally {
      System.clearProperty("spark.hadoop.fs.perl.test.marker");
    }
  }

  private static byte[] png() {
    try {
      java.awt.image.BufferedImage image =
          new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB);
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      javax.imageio.ImageIO.write(image, "png", out);
      return out.toByteArray();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
