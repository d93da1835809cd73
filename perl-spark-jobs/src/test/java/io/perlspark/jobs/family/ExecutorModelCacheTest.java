package io.perlspark.jobs.family;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.executor.ExecutorModelCache;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.spark.SparkSessions;
import io.perlspark.model.checkpoint.ModelFolders;
import io.perlspark.model.family.qwen25vl.Qwen25VlPolicy;
import io.perlspark.model.family.qwen25vl.Qwen25VlRecipe;
import io.perlspark.model.lora.LoraAdapters;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.PolicyModel;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The executors' model cache under a budget of one byte ({@code spark.perl.modelCache.maxBytes},
 * read from this JVM's Spark conf as on an executor): every model is over budget, so every idle
 * model is evicted as soon as another is built, and only leases keep models alive. A LoRA runtime
 * builds its base once for all roles (policy, reference, other jobs), each role an adapter view
 * counting only its adapters; the reference view scores exactly as the base model without LoRA.
 */
class ExecutorModelCacheTest {
  @TempDir static Path dir;
  static SparkSession spark;
  static JavaSparkContext jsc;
  static PolicyRuntime lora;
  static PolicyRuntime plainBase;

  @BeforeAll
  static void start() throws Exception {
    Path model = QwenJobsFixture.copyTinyModel(dir.resolve("qwen-tiny"));
    System.setProperty(ModelFolders.CACHE_PROPERTY, dir.resolve("model-cache").toString());
    System.setProperty(ExecutorModelCache.MAX_BYTES_KEY, "1");
    try {
      spark = SparkSessions.create("ExecutorModelCacheTest", "local[1]");
    } finally {
      System.clearProperty(ExecutorModelCache.MAX_BYTES_KEY);
    }
    jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<String> qwen = List.of("model.family=qwen2_5_vl", "model.path=" + model.toUri(),
        "model.maxSeqLen=256", "model.device=cpu");
    // a seed of this class only, so that no other test class's cached base counts here
    lora = runtime(concat(qwen, "model.lora.enabled=true", "model.lora.rank=4"), 424242);
    plainBase = runtime(qwen, 424242);
  }

  @AfterAll
  static void stop() {
    spark.stop();
    System.clearProperty(ModelFolders.CACHE_PROPERTY);
  }

  static PolicyRuntime runtime(List<String> overrides, long seed) {
    return PolicyRuntime.from(ConfigLoader.load(null, overrides).model(), seed);
  }

  static List<String> concat(List<String> a, String... more) {
    List<String> out = new ArrayList<>(a);
    out.addAll(List.of(more));
    return out;
  }

  static Broadcast<byte[]> initial(PolicyRuntime runtime) {
    return jsc.broadcast(runtime.initialParameters());
  }

  @Test
  void twoRuntimesEvictEachOtherUnderATinyBudget() {
    PolicyRuntime one = PolicyRuntime.from(PerlConfig.defaults().model(), 9001);
    PolicyRuntime two = PolicyRuntime.from(PerlConfig.defaults().model(), 9002);
    Broadcast<byte[]> p1 = initial(one);
    Broadcast<byte[]> p2 = initial(two);
    long loads = ExecutorModelCache.loads("evicting");
    try (ExecutorModelCache.Lease a = ExecutorModelCache.lease("a/evicting", one, "v1", p1)) {
      assertArrayEquals(p1.value(), a.model().parametersToBytes());
    }
    try (ExecutorModelCache.Lease b = ExecutorModelCache.lease("b/evicting", two, "v1", p2)) {
      assertArrayEquals(p2.value(), b.model().parametersToBytes());
    }
    assertEquals(1, ExecutorModelCache.evictions(one), "b's model pushed out the idle a");
    try (ExecutorModelCache.Lease a = ExecutorModelCache.lease("a/evicting", one, "v1", p1)) {
      assertArrayEquals(p1.value(), a.model().parametersToBytes(), "rebuilt and reloaded");
    }
    assertEquals(1, ExecutorModelCache.evictions(two), "and a pushed out b");
    assertEquals(2, ExecutorModelCache.builds(one));
    assertEquals(1, ExecutorModelCache.builds(two));
    assertEquals(3, ExecutorModelCache.loads("evicting") - loads, "every eviction costs a load");
  }

  @Test
  void aLeasedModelIsNeverEvictedEvenOverBudget() {
    PolicyRuntime one = PolicyRuntime.from(PerlConfig.defaults().model(), 9003);
    PolicyRuntime two = PolicyRuntime.from(PerlConfig.defaults().model(), 9004);
    Broadcast<byte[]> p1 = initial(one);
    try (ExecutorModelCache.Lease a = ExecutorModelCache.lease("a/held", one, "v1", p1);
        ExecutorModelCache.Lease b = ExecutorModelCache.lease("b/held", two, "v1", initial(two))) {
      assertEquals(0, ExecutorModelCache.evictions(one), "a is leased: kept, over budget");
      assertArrayEquals(p1.value(), a.model().parametersToBytes(), "a's parameters intact");
      assertNotSame(a.model(), b.model());
    }
  }

  @Test
  void aLoraRunsRolesAreViewsOfOneBaseThatScoresExactlyAsTheBase() throws Exception {
    long builds = ExecutorModelCache.builds(lora);
    byte[] fresh = lora.initialParameters();
    Broadcast<byte[]> reference = jsc.broadcast(fresh);
    Broadcast<byte[]> trained = jsc.broadcast(perturbed(fresh));
    List<PolicyInput> inputs;
    int[][] responses = {{100, 200, 300, 400}, {5, 6, 7}};
    float[] referenceScores;
    // as in a rollout task: the policy lease is held while the reference lease is taken
    try (ExecutorModelCache.Lease policy = ExecutorModelCache.lease("run1/policy", lora, "step1", trained);
        ExecutorModelCache.Lease ref = ExecutorModelCache.lease("run1/reference", lora, "reference", reference);
        ExecutorModelCache.Lease otherJob = ExecutorModelCache.lease("run2/policy", lora, "step0", reference)) {
      assertEquals(builds + 1, ExecutorModelCache.builds(lora), "one base for three roles of two jobs");
      Qwen25VlPolicy p = (Qwen25VlPolicy) policy.model();
      Qwen25VlPolicy r = (Qwen25VlPolicy) ref.model();
      assertTrue(p.model().isView() && r.model().isView());
      assertSame(p.model().parameters().get(0).getArray(), r.model().parameters().get(0).getArray(),
          "the same base array");
      assertSame(policy.prompts(), ref.prompts());
      long adapters = 4L * p.parameterCount();
      assertEquals(adapters, p.nativeBytes());
      long base = 4L * lora.recipe().baseParameterCount();
      // the cache holds the base (with its own, unused, adapters) and three views: the idle
      // models of earlier tests are gone (budget of one byte), and no base is counted twice
      assertEquals(base + 4 * adapters, ExecutorModelCache.cachedBytes(Device.cpu()));

      inputs = List.of(ref.prompts().process("<image> Which colour is it?", List.of(png(56, 56))),
          ref.prompts().process("Count to three.", List.of()));
      referenceScores = flat(r.score(inputs, responses, 1f, false).logProbs());
      float[] policyScores = flat(p.score(inputs, responses, 1f, false).logProbs());
      assertFalse(java.util.Arrays.equals(referenceScores, policyScores), "trained adapters differ");
      assertArrayEquals(referenceScores,
          flat(otherJob.model().score(inputs, responses, 1f, false).logProbs()),
          "another job's view with the same adapters");
    }
    PolicyModel plain = plainBase.build();
    try {
      assertArrayEquals(flat(plain.score(inputs, responses, 1f, false).logProbs()), referenceScores,
          "the reference view (initial adapters, B = 0) is the base model exactly");
    } finally {
      plain.close();
      plain.tokenizer().close(); // build() opened it for this model
    }
  }

  @Test
  void theBaseIsNotFreedUnderALeasedViewAndGoesWhenNoViewIsLeft() {
    Broadcast<byte[]> reference = jsc.broadcast(lora.initialParameters());
    PolicyRuntime other = PolicyRuntime.from(PerlConfig.defaults().model(), 9005);
    Qwen25VlPolicy view;
    long evictions = ExecutorModelCache.evictions(lora);
    try (ExecutorModelCache.Lease ref = ExecutorModelCache.lease("run3/reference", lora, "reference", reference)) {
      view = (Qwen25VlPolicy) ref.model();
      float[] before = view.flatParameters();
      // another runtime's model, over budget: everything idle goes, not the leased view's base
      try (ExecutorModelCache.Lease o = ExecutorModelCache.lease("x/other", other, "v1", initial(other))) {
        assertFalse(view.model().baseFreed(), "the base stays under a live lease");
        assertArrayEquals(before, view.flatParameters());
      }
      assertFalse(view.model().baseFreed());
    }
    // a model is built (another role): the cache makes room, now the view is idle
    try (ExecutorModelCache.Lease o = ExecutorModelCache.lease("y/other", other, "v1", initial(other))) {
      assertTrue(ExecutorModelCache.evictions(lora) >= evictions + 2, "the idle view, then its base");
      assertTrue(view.model().baseFreed(), "no view left: the base's memory is freed");
    }
  }

  @Test
  void aBudgetThatIsNotASizeNamesTheKey() {
    // the conf an executor reads (SparkEnv's; in local mode the driver's)
    SparkEnv.get().conf().set(ExecutorModelCache.MAX_BYTES_KEY, "lots");
    try {
      PolicyRuntime one = PolicyRuntime.from(PerlConfig.defaults().model(), 9006);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ExecutorModelCache.lease("a/badbudget", one, "v1", initial(one)).close());
      assertTrue(e.getMessage().startsWith(ExecutorModelCache.MAX_BYTES_KEY + "=lots"), e.getMessage());
    } finally {
      SparkEnv.get().conf().set(ExecutorModelCache.MAX_BYTES_KEY, "1");
    }
  }

  /** Adapter bytes with every value replaced by a small random one (B no longer zero). */
  static byte[] perturbed(byte[] adapterBytes) {
    long values = 0;
    for (LoraAdapters.Module m : ((Qwen25VlRecipe) lora.recipe()).loraModules()) {
      values += 4L * (m.inFeatures() + m.outFeatures()); // rank 4
    }
    byte[] out = adapterBytes.clone();
    SplittableRandom rng = new SplittableRandom(5);
    // the header comes first, then the values as big-endian float bits (LoraAdapters.toBytes)
    for (int i = Math.toIntExact(out.length - 4 * values); i < out.length; i += 4) {
      int bits = Float.floatToRawIntBits((float) (rng.nextGaussian() * 0.05));
      out[i] = (byte) (bits >>> 24);
      out[i + 1] = (byte) (bits >>> 16);
      out[i + 2] = (byte) (bits >>> 8);
      out[i + 3] = (byte) bits;
    }
    return out;
  }

  static float[] flat(float[][] rows) {
    int n = 0;
    for (float[] r : rows) {
      n += r.length;
    }
    float[] out = new float[n];
    int at = 0;
    for (float[] r : rows) {
      System.arraycopy(r, 0, out, at, r.length);
      at += r.length;
    }
    return out;
  }

  static byte[] png(int w, int h) throws Exception {
    BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        image.setRGB(x, y, (x * 4) << 16 | (y * 4) << 8 | 90);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }
}
