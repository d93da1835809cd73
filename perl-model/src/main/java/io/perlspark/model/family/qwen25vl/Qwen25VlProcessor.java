package io.perlspark.model.family.qwen25vl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.model.tokenizer.ChatTemplate;
import io.perlspark.model.tokenizer.HfTokenizer;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Qwen2.5-VL's input processor: our canonical sample (a prompt with {@code <image>} placeholders,
 * an optional system prompt and the images' encoded bytes) to what Hugging Face's {@code
 * Qwen2_5_VLProcessor} gives for the equivalent chat: the rendered prompt, input ids with each
 * {@code <|image_pad|>} expanded to its image's token count, pixel values and image grids.
 *
 * <p>Canonical prompt to messages: the i-th {@code <image>} is the i-th image. The prompt is cut at
 * each {@code <image>}; the pieces become, in order, text items and image items of ONE user turn
 * ({@code [{"type":"text","text":piece}, {"type":"image"}, ...]}; empty pieces are left out, they
 * would render to nothing). The system prompt, if given, is a leading system message with string
 * content; without one the template inserts its default ("You are a helpful assistant."). The
 * generation prompt ({@code <|im_start|>assistant\n}) is always appended: the policy continues
 * from there. Text is passed verbatim (no trimming), so whitespace around a placeholder is kept.
 *
 * <p>Expansion: image i with grid {@code (t, h, w)} occupies {@code t*h*w / merge^2} copies of
 * {@code <|image_pad|>}. Expanding after tokenisation equals Hugging Face's expansion of the text
 * because {@code <|image_pad|>} is an added token, which always splits the text around it.
 *
 * <p>Files of a checkpoint folder: {@code tokenizer.json}; the chat template ({@link
 * ChatTemplate#load}); {@code preprocessor_config.json} (defaults if absent); {@code
 * generation_config.json} for the eos and pad ids (if absent: {@code <|im_end|>} and {@code
 * <|endoftext|>} as eos, {@code <|endoftext|>} as pad, the Qwen2.5-VL values). Holds a native
 * tokenizer: close it.
 */
public final class Qwen25VlProcessor implements AutoCloseable {
  /** Our canonical image placeholder in prompts. */
  public static final String IMAGE_PLACEHOLDER = "<image>";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HfTokenizer tokenizer;
  private final ChatTemplate template;
  private final Qwen25VlImageProcessor images;
  private final SpecialIds ids;

  /** The special token ids of the family, resolved from the tokenizer and generation config. */
  public record SpecialIds(
      int endOfText, int imStart, int imEnd, int visionStart, int visionEnd, int visionPad,
      int imagePad, int videoPad, int pad, int[] eos) {
    /** Whether generation stops at {@code id}. */
    public boolean isEos(int id) {
      for (int e : eos) {
        if (e == id) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * One processed sample.
   *
   * @param text the rendered chat prompt (one {@code <|image_pad|>} per image, before expansion)
   * @param inputIds token ids with the image pads expanded
   * @param pixelValues per image, {@code patches * 1176} floats (see {@link Qwen25VlImageProcessor})
   * @param grids per image, {@code {t, h, w}} in patches
   */
  public record Inputs(String text, int[] inputIds, List<float[]> pixelValues, List<int[]> grids) {
    /** All images' pixel rows concatenated, as Hugging Face's {@code pixel_values}. */
    public float[] concatenatedPixelValues() {
      int n = 0;
      for (float[] p : pixelValues) {
        n += p.length;
      }
      float[] out = new float[n];
      int o = 0;
      for (float[] p : pixelValues) {
        System.arraycopy(p, 0, out, o, p.length);
        o += p.length;
      }
      return out;
    }
  }

  private Qwen25VlProcessor(
      HfTokenizer tokenizer, ChatTemplate template, Qwen25VlImageProcessor images, SpecialIds ids) {
    this.tokenizer = tokenizer;
    this.template = template;
    this.images = images;
    this.ids = ids;
  }

  /** Loads every file from one checkpoint folder (see the class comment). */
  public static Qwen25VlProcessor load(Path folder) {
    return builder(folder).build();
  }

  public static Builder builder(Path folder) {
    return new Builder(Objects.requireNonNull(folder, "folder"));
  }

  /** Where the files come from, and the user's pixel-bound overrides. */
  public static final class Builder {
    private final Path folder;
    private Path generationConfig;
    private Integer minPixels;
    private Integer maxPixels;

    private Builder(Path folder) {
      this.folder = folder;
      this.generationConfig = folder.resolve("generation_config.json");
    }

    /** Reads eos/pad ids from this file instead of the folder's {@code generation_config.json}. */
    public Builder generationConfig(Path file) {
      this.generationConfig = Objects.requireNonNull(file, "file");
      return this;
    }

    /** Overrides {@code min_pixels} of preprocessor_config.json. */
    public Builder minPixels(int minPixels) {
      this.minPixels = minPixels;
      return this;
    }

    /** Overrides {@code max_pixels} of preprocessor_config.json (PeRL's reference run: 262144). */
    public Builder maxPixels(int maxPixels) {
      this.maxPixels = maxPixels;
      return this;
    }

    public Qwen25VlProcessor build() {
      Path pre = folder.resolve("preprocessor_config.json");
      Qwen25VlImageProcessor imageProcessor =
          Files.isRegularFile(pre)
              ? Qwen25VlImageProcessor.fromConfig(pre)
              : Qwen25VlImageProcessor.defaults();
      if (minPixels != null || maxPixels != null) {
        imageProcessor = imageProcessor.withPixels(
            minPixels != null ? minPixels : imageProcessor.minPixels(),
            maxPixels != null ? maxPixels : imageProcessor.maxPixels());
      }
      ChatTemplate template = ChatTemplate.load(folder);
      HfTokenizer tokenizer = HfTokenizer.load(folder.resolve("tokenizer.json"));
      try {
        return new Qwen25VlProcessor(
            tokenizer, template, imageProcessor, specialIds(tokenizer, generationConfig));
      } catch (RuntimeException e) {
        tokenizer.close();
        throw e;
      }
    }
  }

  /**
   * Everything needed to open an equal processor in another JVM (a Spark executor): the file
   * contents travel, not paths.
   */
  public record Source(
      String tokenizerJson, String chatTemplate, String origin, int minPixels, int maxPixels,
      int patchSize, int temporalPatchSize, int mergeSize, float[] mean, float[] std, int[] eos,
      int pad) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Opens the processor (it holds a native tokenizer: close it). */
    public Qwen25VlProcessor open() {
      Qwen25VlImageProcessor images = new Qwen25VlImageProcessor(
          minPixels, maxPixels, patchSize, temporalPatchSize, mergeSize, mean, std);
      HfTokenizer tokenizer = HfTokenizer.fromJson(tokenizerJson, origin);
      try {
        return new Qwen25VlProcessor(tokenizer, ChatTemplate.of(chatTemplate, origin), images,
            specialIds(tokenizer, eos.clone(), pad));
      } catch (RuntimeException e) {
        tokenizer.close();
        throw e;
      }
    }
  }

  /** This processor as a {@link Source}. */
  public Source source() {
    return new Source(tokenizer.source().tokenizerJson(), template.source(),
        tokenizer.source().origin(), images.minPixels(), images.maxPixels(), images.patchSize(),
        images.temporalPatchSize(), images.mergeSize(), images.mean(), images.std(),
        ids.eos().clone(), ids.pad());
  }

  private static SpecialIds specialIds(HfTokenizer tok, int[] eos, int pad) {
    return new SpecialIds(
        required(tok, "<|endoftext|>"), required(tok, "<|im_start|>"), required(tok, "<|im_end|>"),
        required(tok, "<|vision_start|>"), required(tok, "<|vision_end|>"),
        required(tok, "<|vision_pad|>"), required(tok, "<|image_pad|>"),
        required(tok, "<|video_pad|>"), pad, eos);
  }

  private static SpecialIds specialIds(HfTokenizer tok, Path generationConfig) {
    int endOfText = required(tok, "<|endoftext|>");
    int imEnd = required(tok, "<|im_end|>");
    int[] eos = {imEnd, endOfText};
    int pad = endOfText;
    if (Files.isRegularFile(generationConfig)) {
      try {
        JsonNode g = JSON.readTree(generationConfig.toFile());
        JsonNode e = g.get("eos_token_id");
        if (e != null && e.isArray() && e.size() > 0) {
          eos = new int[e.size()];
          for (int i = 0; i < eos.length; i++) {
            eos[i] = e.get(i).asInt();
          }
        } else if (e != null && e.canConvertToInt()) {
          eos = new int[] {e.asInt()};
        }
        JsonNode p = g.get("pad_token_id");
        if (p != null && p.canConvertToInt()) {
          pad = p.asInt();
        }
      } catch (IOException ex) {
        throw new UncheckedIOException("cannot read " + generationConfig, ex);
      }
    }
    return specialIds(tok, eos, pad);
  }

  private static int required(HfTokenizer tok, String token) {
    return tok.id(token).orElseThrow(() -> new IllegalArgumentException(
        "tokenizer " + tok + " has no " + token + " token; is it a Qwen2.5-VL tokenizer?"));
  }

  /**
   * The chat messages of a canonical prompt (see the class comment), for inspection or for other
   * renderers.
   */
  public static List<Map<String, Object>> messages(String prompt, String systemPrompt) {
    Objects.requireNonNull(prompt, "prompt");
    List<Map<String, Object>> messages = new ArrayList<>();
    if (systemPrompt != null) {
      messages.add(Map.of("role", "system", "content", systemPrompt));
    }
    List<Map<String, Object>> content = new ArrayList<>();
    int from = 0;
    while (true) {
      int at = prompt.indexOf(IMAGE_PLACEHOLDER, from);
      String piece = at < 0 ? prompt.substring(from) : prompt.substring(from, at);
      if (!piece.isEmpty()) {
        content.add(Map.of("type", "text", "text", piece));
      }
      if (at < 0) {
        break;
      }
      content.add(Map.of("type", "image"));
      from = at + IMAGE_PLACEHOLDER.length();
    }
    messages.add(Map.of("role", "user", "content", content));
    return messages;
  }

  /** Number of {@code <image>} placeholders in a prompt. */
  public static int countPlaceholders(String prompt) {
    int n = 0;
    for (int at = prompt.indexOf(IMAGE_PLACEHOLDER); at >= 0;
        at = prompt.indexOf(IMAGE_PLACEHOLDER, at + IMAGE_PLACEHOLDER.length())) {
      n++;
    }
    return n;
  }

  /**
   * Processes one sample.
   *
   * @param prompt text with one {@code <image>} per image, in image order
   * @param systemPrompt a system prompt, or null for the template's default
   * @param encodedImages the images' PNG/JPEG bytes, in placeholder order
   */
  public Inputs process(String prompt, String systemPrompt, List<byte[]> encodedImages) {
    Objects.requireNonNull(encodedImages, "encodedImages");
    int placeholders = countPlaceholders(Objects.requireNonNull(prompt, "prompt"));
    if (placeholders != encodedImages.size()) {
      throw new IllegalArgumentException(
          "the prompt has " + placeholders + " " + IMAGE_PLACEHOLDER + " placeholder(s) but "
              + encodedImages.size() + " image(s) were given; each image needs exactly one"
              + " placeholder, in order");
    }
    List<float[]> pixels = new ArrayList<>(encodedImages.size());
    List<int[]> grids = new ArrayList<>(encodedImages.size());
    for (int i = 0; i < encodedImages.size(); i++) {
      Qwen25VlImageProcessor.Image img = images.process(
          encodedImages.get(i), "image " + (i + 1) + " of " + encodedImages.size());
      pixels.add(img.pixelValues());
      grids.add(img.grid());
    }
    String text = template.render(messages(prompt, systemPrompt), true);
    int[] raw = tokenizer.encode(text);
    return new Inputs(text, expandImagePads(raw, grids), pixels, grids);
  }

  /** Replaces the i-th {@code <|image_pad|>} by {@code t*h*w/merge^2} copies (grid i). */
  int[] expandImagePads(int[] raw, List<int[]> grids) {
    int merge2 = images.mergeSize() * images.mergeSize();
    int pads = 0;
    long total = 0;
    for (int id : raw) {
      if (id == ids.imagePad()) {
        pads++;
      } else {
        total++;
      }
    }
    if (pads != grids.size()) {
      // Only possible when the prompt text itself spells out <|image_pad|>.
      throw new IllegalArgumentException(
          "the rendered prompt holds " + pads + " <|image_pad|> token(s) for " + grids.size()
              + " image(s); the prompt text must not contain Qwen's vision tokens itself");
    }
    for (int[] g : grids) {
      total += (long) g[0] * g[1] * g[2] / merge2;
    }
    int[] out = new int[Math.toIntExact(total)];
    int o = 0;
    int image = 0;
    for (int id : raw) {
      if (id == ids.imagePad()) {
        int[] g = grids.get(image++);
        int n = g[0] * g[1] * g[2] / merge2;
        java.util.Arrays.fill(out, o, o + n, id);
        o += n;
      } else {
        out[o++] = id;
      }
    }
    return out;
  }

  /** The text of generated ids, special tokens (eos, pad, vision markers) left out. */
  public String decode(int[] ids) {
    return tokenizer.decode(ids, true);
  }

  public SpecialIds specialIds() {
    return ids;
  }

  public Qwen25VlImageProcessor imageProcessor() {
    return images;
  }

  public ChatTemplate chatTemplate() {
    return template;
  }

  public HfTokenizer tokenizer() {
    return tokenizer;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
