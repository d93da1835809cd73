package io.perlspark.model.family.qwen25vl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Iterator;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The image half of the processor against Hugging Face's outputs in the fixtures. */
class Qwen25VlImageProcessorTest {
  private static QwenFixtures fx;
  private static Qwen25VlImageProcessor processor;

  @BeforeAll
  static void open() {
    fx = QwenFixtures.open();
    processor = Qwen25VlImageProcessor.fromConfig(fx.folder().resolve("preprocessor_config.json"));
  }

  @AfterAll
  static void close() throws IOException {
    fx.close();
  }

  @Test
  void configMatchesTheProcessorSettingsHfUsed() {
    JsonNode p = fx.json().get("processor");
    assertEquals(p.get("min_pixels").asInt(), processor.minPixels());
    assertEquals(p.get("max_pixels").asInt(), processor.maxPixels());
    assertEquals(p.get("patch_size").asInt(), processor.patchSize());
    assertEquals(p.get("temporal_patch_size").asInt(), processor.temporalPatchSize());
    assertEquals(p.get("merge_size").asInt(), processor.mergeSize());
    assertEquals(1176, processor.patchDim());
  }

  @Test
  void smartResizeEqualsEveryRowOfTheTable() {
    JsonNode table = fx.json().get("smart_resize_table");
    Qwen25VlImageProcessor p =
        processor.withPixels(table.get("min_pixels").asInt(), table.get("max_pixels").asInt());
    assertEquals(28, table.get("factor").asInt());
    int rows = 0;
    for (JsonNode r : table.get("rows")) {
      int[] got = p.smartResize(r.get("height").asInt(), r.get("width").asInt());
      int[] hf = {r.get("hf").get(0).asInt(), r.get("hf").get(1).asInt()};
      assertArrayEquals(hf, got, "smart_resize(" + r.get("height") + ", " + r.get("width") + ")");
      rows++;
    }
    assertTrue(rows > 0, "the table has rows");
  }

  @Test
  void smartResizeHonoursAMaxPixelsOverride() {
    // Expected values from Python's smart_resize with max_pixels=262144 (PeRL's reference run).
    Qwen25VlImageProcessor p = processor.withPixels(3136, 262144);
    assertArrayEquals(new int[] {364, 672}, p.smartResize(1080, 1920));
    assertArrayEquals(new int[] {420, 588}, p.smartResize(3000, 4000));
    assertArrayEquals(new int[] {504, 504}, p.smartResize(9000, 9000));
    assertArrayEquals(new int[] {420, 588}, p.smartResize(480, 640));
    assertArrayEquals(new int[] {504, 504}, p.smartResize(512, 512));
    assertArrayEquals(new int[] {56, 56}, p.smartResize(70, 50));
    assertThrows(IllegalArgumentException.class, () -> p.smartResize(10, 2100));
  }

  @Test
  void resizedPixelsEqualPillowBicubicForEveryImage() throws IOException {
    try (NDManager m = NDManager.newBaseManager()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = fx.json().get("images").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String name = e.getKey();
        RgbImage decoded = RgbImage.decode(Files.readAllBytes(fx.image(name)), name);
        assertEquals(e.getValue().get("width").asInt(), decoded.width(), name);
        assertEquals(e.getValue().get("height").asInt(), decoded.height(), name);
        RgbImage resized = processor.resize(decoded);
        int[] ref;
        long[] shape;
        try (NDArray a = fx.tensor("images/" + name + "/resized_uint8_hwc", m, DataType.INT32)) {
          ref = a.toIntArray();
          shape = a.getShape().getShape();
        }
        assertEquals(shape[0], resized.height(), name + " height");
        assertEquals(shape[1], resized.width(), name + " width");
        int maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs((resized.hwc()[i] & 0xFF) - ref[i]));
        }
        System.out.printf(
            "resize %s (%s): max |uint8 - PIL| = %d%n",
            name, e.getValue().get("resized").asBoolean() ? "resized" : "no resize", maxDiff);
        assertEquals(0, maxDiff, name + ": resized uint8 differs from Pillow's");
      }
    }
  }

  @Test
  void pixelValuesAndGridsEqualTheReferenceForEveryImage() throws IOException {
    try (NDManager m = NDManager.newBaseManager()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = fx.json().get("images").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String name = e.getKey();
        Qwen25VlImageProcessor.Image img =
            processor.process(Files.readAllBytes(fx.image(name)), name);
        JsonNode grid = e.getValue().get("grid_thw");
        assertArrayEquals(
            new int[] {grid.get(0).asInt(), grid.get(1).asInt(), grid.get(2).asInt()},
            img.grid(), name + " grid");
        assertEquals(e.getValue().get("n_image_tokens").asInt(), img.tokens(2), name + " tokens");
        String key = "images/" + name + "/pixel_values_ref";
        if (!fx.has(key)) {
          continue; // optional tensor; the per-case pixel_values are checked by the processor test
        }
        float[] ref;
        try (NDArray a = fx.tensor(key, m)) {
          ref = a.toFloatArray();
          assertEquals(a.getShape().get(0), img.patches(), name + " patch rows");
        }
        double maxDiff = maxAbsDiff(ref, img.pixelValues());
        System.out.printf("pixel_values %s: max |java - HF| = %s%n", name, maxDiff);
        assertEquals(0.0, maxDiff, name + ": pixel values differ");
      }
    }
  }

  static double maxAbsDiff(float[] ref, float[] got) {
    assertEquals(ref.length, got.length, "length");
    double max = 0;
    for (int i = 0; i < ref.length; i++) {
      max = Math.max(max, Math.abs((double) ref[i] - got[i]));
    }
    return max;
  }

  @Test
  void greyPaletteAndAlphaConvertAsPilDoes() throws IOException {
    // PIL's convert("RGB"): grey copied to R=G=B (no gamma), palette looked up, alpha dropped.
    BufferedImage grey = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
    grey.getRaster().setSample(0, 0, 0, 37);
    grey.getRaster().setSample(1, 0, 0, 200);
    assertArrayEquals(new byte[] {37, 37, 37, (byte) 200, (byte) 200, (byte) 200},
        RgbImage.decode(png(grey), "grey").hwc());

    IndexColorModel palette = new IndexColorModel(8, 2,
        new byte[] {10, (byte) 250}, new byte[] {20, 0}, new byte[] {30, (byte) 128});
    BufferedImage indexed = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_INDEXED, palette);
    indexed.getRaster().setSample(0, 0, 0, 1);
    indexed.getRaster().setSample(1, 0, 0, 0);
    assertArrayEquals(new byte[] {(byte) 250, 0, (byte) 128, 10, 20, 30},
        RgbImage.decode(png(indexed), "palette").hwc());

    BufferedImage rgba = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
    rgba.setRGB(0, 0, (17 << 24) | (200 << 16) | (100 << 8) | 50); // alpha 17
    assertArrayEquals(new byte[] {(byte) 200, 100, 50}, RgbImage.decode(png(rgba), "rgba").hwc());
  }

  private static byte[] png(BufferedImage img) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(img, "png", out));
    return out.toByteArray();
  }

  @Test
  void undecodableBytesNameTheImage() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> processor.process(new byte[] {1, 2, 3, 4}, "image 2 of 3"));
    assertTrue(e.getMessage().contains("image 2 of 3"), e.getMessage());
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> processor.process(new byte[0], "image 1 of 1"));
    assertTrue(empty.getMessage().contains("image 1 of 1"), empty.getMessage());
  }
}
