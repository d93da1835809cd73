package io.perlspark.model.family.builtin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.ModelConfig;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.model.family.ModelFamilies;
import io.perlspark.model.family.ModelRecipe;
import io.perlspark.model.family.PromptProcessor;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.PackedBatch;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.tokenizer.TextTokenizer;
import io.perlspark.model.train.SynthExamples;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class BuiltinFamilyTest {
  private static final ModelConfig DEFAULTS = PerlConfig.defaults().model();

  /**
   * sha256 of the parameters of the default config's model with seed 42, recorded from the code
   * before the family seam: the seam must not change the built-in model's parameters, their order
   * or their initialisation (the demo's numbers depend on all three).
   */
  private static final String DEFAULT_SEED_42_SHA256 =
      "1ebba7b8bb43787d78c1ecd0c873b0ba4ecfec12dc32b13a6b26767132f161fe";

  private static BuiltinRecipe recipe(ModelConfig config, long seed) {
    return assertInstanceOf(BuiltinRecipe.class, ModelFamilies.recipe(config, seed));
  }

  @Test
  void theDefaultRecipeBuildsTheSameModelAsBefore() throws Exception {
    BuiltinRecipe r = recipe(DEFAULTS, 42);
    assertEquals(
        new ModelSpec(SynthExamples.tokenizer().vocabSize(), 24, 8, 3, 64, 2, 4, 4, 128, false),
        r.spec());
    try (TextTokenizer tok = r.newTokenizer();
        PolicyModel m = r.newModel(tok, Device.cpu())) {
      byte[] bytes = m.parametersToBytes();
      String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
      assertEquals(DEFAULT_SEED_42_SHA256, sha);
      assertEquals(128, m.maxSequenceLength());
      assertTrue(m.describe().startsWith("builtin TinyVlm("), m.describe());
    }
  }

  @Test
  void theRecipeTravelsAsAValue() throws Exception {
    BuiltinRecipe r = recipe(DEFAULTS, 7);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(r);
    }
    Object back;
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      back = in.readObject();
    }
    assertEquals(r, back);
    assertEquals(r.hashCode(), back.hashCode());
    assertFalse(r.equals(recipe(DEFAULTS, 8)), "the seed is part of the recipe");
    assertEquals("builtin", ((ModelRecipe) back).familyName());
  }

  @Test
  void parametersOfOtherSizesAreRefusedBeforeBuilding() {
    BuiltinRecipe small = recipe(config("model.dModel=32"), 1);
    BuiltinRecipe standard = recipe(DEFAULTS, 1);
    byte[] params;
    try (TextTokenizer tok = small.newTokenizer();
        PolicyModel m = small.newModel(tok, Device.cpu())) {
      params = m.parametersToBytes();
    }
    small.checkParameters(params);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> standard.checkParameters(params));
    assertTrue(e.getMessage().contains("dModel=32") && e.getMessage().contains("model.* keys"),
        e.getMessage());
  }

  @Test
  void aMissingTokenizerFileIsAProblemOnModelTokenizer() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> ModelFamilies.recipe(config("model.tokenizer=/no/such/tokenizer.json"), 1));
    assertEquals("model.tokenizer", e.key());
  }

  @Test
  void thePromptProcessorTokenisesAndDecodesToTheModelsSize() throws IOException {
    BuiltinRecipe r = recipe(DEFAULTS, 3);
    try (TextTokenizer tok = r.newTokenizer();
        PolicyModel m = r.newModel(tok, Device.cpu())) {
      PromptProcessor p = r.newPromptProcessor(tok);
      byte[] red = png(40, Color.RED);
      byte[] blue = png(24, Color.BLUE);
      PolicyInput in = p.process("<image> <image> which image shows a red circle ?",
          List.of(red, blue));
      assertArrayEquals(tok.encode("<image> <image> which image shows a red circle ?"),
          in.promptTokens());
      assertEquals(2, in.imageCount());
      assertFalse(in.hasImageGrids());
      assertArrayEquals(ImagePixels.decode(red, 24, 3), in.images()[0]);
      assertArrayEquals(ImagePixels.decode(blue, 24, 3), in.images()[1]);
      assertEquals(1f, in.images()[0][0], 1e-6f); // red channel of a red image, resized
      assertEquals(1, m.generate(List.of(in),
          GenerationOptions.builder().optMaxNewTokens(3).setSeeds(1).build()).tokens().length);
      IllegalArgumentException mismatch =
          assertThrows(IllegalArgumentException.class,
              () -> m.generate(List.of(p.process("<image> which ?", List.of(red, blue))),
                  GenerationOptions.builder().optMaxNewTokens(3).setSeeds(1).build()));
      assertTrue(mismatch.getMessage().contains("1 <image> placeholders but 2 images"),
          mismatch.getMessage());
    }
  }

  @Test
  void tinyVlmRefusesInputsAndBatchesOfOtherFamilies() {
    try (TinyVlm m = Fixtures.model(1)) {
      PolicyInput plain = Fixtures.prompt(1, 1);
      PolicyInput withGrid =
          new PolicyInput(plain.promptTokens(), plain.images(), new int[][] {{1, 3, 3}});
      IllegalArgumentException grids =
          assertThrows(IllegalArgumentException.class,
              () -> m.score(List.of(withGrid), new int[][] {{5}}, 1f, false));
      assertTrue(grids.getMessage().contains("carries image grids"), grids.getMessage());
      PackedBatch foreign = new PackedBatch() {
        @Override
        public int batchSize() {
          return 1;
        }

        @Override
        public int responseLength() {
          return 1;
        }

        @Override
        public int[] responseLengths() {
          return new int[] {1};
        }

        @Override
        public ai.djl.ndarray.NDArray responseMask(NDManager manager) {
          return manager.ones(new ai.djl.ndarray.types.Shape(1, 1));
        }
      };
      try (NDManager nd = NDManager.newBaseManager()) {
        IllegalArgumentException e =
            assertThrows(IllegalArgumentException.class,
                () -> m.responseTensors(nd, foreign, 1f, false, false));
        assertTrue(e.getMessage().contains("packed by another model family"), e.getMessage());
      }
    }
  }

  private static ModelConfig config(String... overrides) {
    return ConfigLoader.load(null, List.of(overrides)).model();
  }

  private static byte[] png(int size, Color color) throws IOException {
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(color);
    g.fillRect(0, 0, size, size);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }
}
