package io.perlspark.model.family.qwen25vl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.model.tokenizer.ChatTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole processor against Hugging Face's {@code Qwen2_5_VLProcessor} outputs: each fixture
 * case's chat messages are mapped to our canonical input (prompt with {@code <image>}, optional
 * system prompt, image bytes) and the rendered text, ids, grids and pixel values must match.
 */
class Qwen25VlProcessorTest {
  private static final List<String> CASES = List.of("A", "B", "C", "D");
  private static QwenFixtures fx;
  private static Qwen25VlProcessor processor;

  @BeforeAll
  static void open() {
    fx = QwenFixtures.open();
    processor = Qwen25VlProcessor.builder(fx.folder())
        .generationConfig(fx.checkpoint("tiny-tied").resolve("generation_config.json"))
        .build();
  }

  @AfterAll
  static void close() throws IOException {
    processor.close();
    fx.close();
  }

  /** One row of a case as our canonical input. */
  private record Canonical(String prompt, String system, List<byte[]> images, List<String> names) {}

  /** The mapping under test: HF chat messages to prompt-with-placeholders + system + bytes. */
  private static Canonical canonical(JsonNode messages) throws IOException {
    String system = null;
    StringBuilder prompt = new StringBuilder();
    List<byte[]> images = new ArrayList<>();
    List<String> names = new ArrayList<>();
    int users = 0;
    for (JsonNode msg : messages) {
      String role = msg.get("role").asText();
      JsonNode content = msg.get("content");
      if (role.equals("system")) {
        system = content.asText();
        continue;
      }
      assertEquals("user", role, "the fixtures have one user turn");
      users++;
      if (content.isTextual()) {
        prompt.append(content.asText());
        continue;
      }
      for (JsonNode item : content) {
        if (item.get("type").asText().equals("image")) {
          prompt.append(Qwen25VlProcessor.IMAGE_PLACEHOLDER);
          Path file = fx.folder().resolve(item.get("image_file").asText());
          images.add(Files.readAllBytes(file));
          String f = file.getFileName().toString();
          names.add(f.substring(0, f.length() - ".png".length()));
        } else {
          prompt.append(item.get("text").asText());
        }
      }
    }
    assertEquals(1, users);
    return new Canonical(prompt.toString(), system, images, names);
  }

  private static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }

  @Test
  void everyCaseMatchesHfTextIdsGridsAndPixelValues() throws IOException {
    try (NDManager m = NDManager.newBaseManager()) {
      for (String name : CASES) {
        JsonNode c = fx.caseJson(name);
        JsonNode messages = c.get("messages");
        long[] refIds = fx.longs("inputs/" + name + "/input_ids", m);
        long[] refMask = fx.longs("inputs/" + name + "/attention_mask", m);
        int rowLength = refIds.length / messages.size();
        List<int[]> grids = new ArrayList<>();
        List<float[]> pixels = new ArrayList<>();
        List<int[]> rows = new ArrayList<>();
        for (int b = 0; b < messages.size(); b++) {
          Canonical in = canonical(messages.get(b));
          Qwen25VlProcessor.Inputs out = processor.process(in.prompt(), in.system(), in.images());
          String where = "case " + name + " row " + b;
          assertEquals(c.get("prompt_text").get(b).asText(), out.text(), where + " text");
          // The HF row without its left padding.
          int[] expected = ints(c.get("input_ids").get(b));
          int[] mask = ints(c.get("attention_mask").get(b));
          int pad = 0;
          while (pad < mask.length && mask[pad] == 0) {
            pad++;
          }
          int[] unpadded = java.util.Arrays.copyOfRange(expected, pad, expected.length);
          assertArrayEquals(unpadded, out.inputIds(), where + " input ids");
          for (int i = 0; i < rowLength; i++) {
            assertEquals(refIds[b * rowLength + i], expected[i], where + " json vs tensor ids");
            assertEquals(refMask[b * rowLength + i], mask[i], where + " json vs tensor mask");
          }
          assertEquals(in.images().size(), out.grids().size());
          for (int i = 0; i < out.grids().size(); i++) {
            assertEquals(out.pixelValues().get(i).length, 1176 * out.grids().get(i)[0]
                * out.grids().get(i)[1] * out.grids().get(i)[2], where + " image " + i);
          }
          grids.addAll(out.grids());
          pixels.add(out.concatenatedPixelValues());
          rows.add(out.inputIds());
        }
        JsonNode refGrids = c.get("image_grid_thw");
        if (refGrids == null || refGrids.isNull()) {
          assertTrue(grids.isEmpty(), name + " has no images");
          assertFalse(fx.has("inputs/" + name + "/pixel_values"));
        } else {
          assertEquals(refGrids.size(), grids.size(), name + " image count");
          long[] gridTensor = fx.longs("inputs/" + name + "/image_grid_thw", m);
          for (int i = 0; i < grids.size(); i++) {
            assertArrayEquals(ints(refGrids.get(i)), grids.get(i), name + " grid " + i);
            for (int k = 0; k < 3; k++) {
              assertEquals(gridTensor[i * 3 + k], grids.get(i)[k], name + " grid tensor " + i);
            }
          }
          float[] ref;
          try (NDArray a = fx.tensor("inputs/" + name + "/pixel_values", m)) {
            ref = a.toFloatArray();
          }
          int n = pixels.stream().mapToInt(p -> p.length).sum();
          float[] all = new float[n];
          int o = 0;
          for (float[] p : pixels) {
            System.arraycopy(p, 0, all, o, p.length);
            o += p.length;
          }
          double diff = Qwen25VlImageProcessorTest.maxAbsDiff(ref, all);
          System.out.printf("case %s pixel_values: max |java - HF| = %s%n", name, diff);
          assertEquals(0.0, diff, name + " pixel values");
        }
        if (name.equals("D")) {
          LeftPaddedBatch batch = LeftPaddedBatch.of(rows, processor.specialIds().pad());
          assertEquals(2, batch.batchSize());
          assertEquals(rowLength, batch.length());
          assertArrayEquals(refIds, batch.flatIds(), "D left-padded ids");
          assertArrayEquals(refMask, batch.flatMask(), "D attention mask");
        }
      }
    }
  }

  @Test
  void officialTemplateRendersTheHfPromptsFromEitherFile(@TempDir Path tmp) throws IOException {
    ObjectMapper json = new ObjectMapper();
    Files.copy(fx.folder().resolve("tokenizer_config.json"), tmp.resolve("tokenizer_config.json"));
    ChatTemplate fromTokenizerConfig = ChatTemplate.load(tmp);
    ChatTemplate fromChatTemplateJson = ChatTemplate.load(fx.folder());
    assertEquals(fx.json().get("chat_template").asText(), fromTokenizerConfig.source());
    for (String name : CASES) {
      JsonNode c = fx.caseJson(name);
      for (int b = 0; b < c.get("messages").size(); b++) {
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> messages = json.convertValue(c.get("messages").get(b), List.class);
        String expected = c.get("prompt_text").get(b).asText();
        assertEquals(expected, fromTokenizerConfig.render(messages, true), name + b);
        assertEquals(expected, fromChatTemplateJson.render(messages, true), name + b);
      }
    }
  }

  @Test
  void templateDoesNotEscapeTextAndCountsImagesWithVisionIds() {
    ChatTemplate t = processor.chatTemplate();
    String text = t.render(Qwen25VlProcessor.messages("a < b & \"c\" <image> {{ x }}", "S"), true,
        Map.of("add_vision_id", true));
    assertEquals("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\na < b & \"c\" Picture 1: "
        + "<|vision_start|><|image_pad|><|vision_end|> {{ x }}<|im_end|>\n"
        + "<|im_start|>assistant\n", text);
  }

  @Test
  void specialIdsComeFromTheTokenizerAndGenerationConfig() {
    Qwen25VlProcessor.SpecialIds ids = processor.specialIds();
    assertEquals(151643, ids.endOfText());
    assertEquals(151644, ids.imStart());
    assertEquals(151645, ids.imEnd());
    assertEquals(151652, ids.visionStart());
    assertEquals(151653, ids.visionEnd());
    assertEquals(151654, ids.visionPad());
    assertEquals(151655, ids.imagePad());
    assertEquals(151656, ids.videoPad());
    assertEquals(151643, ids.pad());
    assertArrayEquals(new int[] {151645, 151643}, ids.eos());
    assertTrue(ids.isEos(151645) && ids.isEos(151643) && !ids.isEos(151644));
  }

  @Test
  void decodeEqualsHfForTheGreedyResponsesAndSkipsSpecialTokens() {
    int checked = 0;
    for (String ckpt : List.of("tiny-tied", "tiny-untied")) {
      for (String name : CASES) {
        JsonNode gen = fx.caseJson(name).get("per_checkpoint").get(ckpt).get("generation");
        if (gen == null) {
          continue;
        }
        for (int b = 0; b < gen.get("new_ids").size(); b++) {
          int[] ids = ints(gen.get("new_ids").get(b));
          String hf = gen.get("decoded").get(b).asText();
          assertEquals(hf, processor.tokenizer().decode(ids, false), ckpt + "/" + name + b);
          assertEquals(hf, processor.decode(ids), ckpt + "/" + name + b);
          // A response that ends with <|im_end|> and padding decodes to the same text.
          int[] withEos = java.util.Arrays.copyOf(ids, ids.length + 3);
          withEos[ids.length] = 151645;
          withEos[ids.length + 1] = 151643;
          withEos[ids.length + 2] = 151643;
          assertEquals(hf, processor.decode(withEos), ckpt + "/" + name + b + " + eos");
          checked++;
        }
      }
    }
    assertTrue(checked >= 5, "decoded references checked: " + checked);
    // The model's vocabulary (151936) is larger than the tokenizer's (151665): unknown ids vanish.
    int[] known = ints(fx.caseJson("C").get("per_checkpoint").get("tiny-tied").get("generation")
        .get("new_ids").get(0));
    int[] withUnknown = java.util.Arrays.copyOf(known, known.length + 1);
    withUnknown[known.length] = 151900;
    assertEquals(processor.decode(known), processor.decode(withUnknown));
    // Skipping special tokens of a whole prompt leaves exactly the text between them.
    JsonNode a = fx.caseJson("A");
    String expected = a.get("prompt_text").get(0).asText()
        .replaceAll("<\\|(im_start|im_end|vision_start|vision_end|image_pad|endoftext)\\|>", "");
    assertEquals(expected, processor.decode(ints(a.get("input_ids").get(0))));
  }

  @Test
  void maxPixelsOverrideChangesTheGridAndTheImageTokens() throws IOException {
    Path file = fx.image("b3_square_magenta_112x84");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(file), "fixture image b3");
    byte[] b3 = Files.readAllBytes(file);
    try (Qwen25VlProcessor small = Qwen25VlProcessor.builder(fx.folder()).maxPixels(56 * 56).build()) {
      assertEquals(56 * 56, small.imageProcessor().maxPixels());
      Qwen25VlProcessor.Inputs out = small.process("<image>", null, List.of(b3));
      // smart_resize(84, 112) with max 3136: beta = sqrt(84*112/3136) = sqrt(3); 84/beta/28 = 1.73.
      assertArrayEquals(new int[] {1, 2, 4}, out.grids().get(0));
      long pads = java.util.Arrays.stream(out.inputIds()).filter(i -> i == 151655).count();
      assertEquals(2, pads);
    }
  }

  @Test
  void aSerializedSourceOpensAnEqualProcessor() throws Exception {
    Qwen25VlProcessor.Source source;
    try (Qwen25VlProcessor p = Qwen25VlProcessor.builder(fx.folder()).maxPixels(262144).build()) {
      source = p.source();
    }
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(source);
    }
    Qwen25VlProcessor.Source copy;
    try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
        new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (Qwen25VlProcessor.Source) in.readObject();
    }
    JsonNode a = fx.caseJson("A");
    Canonical in = canonical(a.get("messages").get(0));
    try (Qwen25VlProcessor reopened = copy.open()) {
      assertEquals(262144, reopened.imageProcessor().maxPixels());
      assertEquals(processor.specialIds().pad(), reopened.specialIds().pad());
      assertArrayEquals(processor.specialIds().eos(), reopened.specialIds().eos());
      Qwen25VlProcessor.Inputs out = reopened.process(in.prompt(), in.system(), in.images());
      assertEquals(a.get("prompt_text").get(0).asText(), out.text());
      assertArrayEquals(ints(a.get("input_ids").get(0)), out.inputIds());
      Qwen25VlProcessor.Inputs ref = processor.process(in.prompt(), in.system(), in.images());
      assertArrayEquals(ref.concatenatedPixelValues(), out.concatenatedPixelValues());
    }
  }

  @Test
  void userMistakesGiveClearErrors() {
    byte[] png;
    try {
      png = Files.readAllBytes(fx.image("a1_circle_red_56x84"));
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
    IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
        () -> processor.process("one <image> two <image>", null, List.of(png)));
    assertTrue(count.getMessage().contains("2 <image> placeholder(s)")
        && count.getMessage().contains("1 image(s)"), count.getMessage());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> processor.process("<image><image>", null, List.of(png, new byte[] {9, 9, 9})));
    assertTrue(bad.getMessage().contains("image 2 of 2"), bad.getMessage());
    IllegalArgumentException literal = assertThrows(IllegalArgumentException.class,
        () -> processor.process("look <|image_pad|> here <image>", null, List.of(png)));
    assertTrue(literal.getMessage().contains("<|image_pad|>"), literal.getMessage());
  }
}
