package io.perlspark.model.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * A Hugging Face tokenizer loaded from a local {@code tokenizer.json} (DJL's bundled native
 * tokenizers library; works offline).
 *
 * <p>The vocabulary (size and token-to-id map) is read from the JSON itself, since the native
 * wrapper does not expose it. Special tokens are looked up by name, taking the first present of
 * common spellings (e.g. {@code <pad>}, {@code [PAD]}, {@code <|endoftext|>}); the image
 * placeholder must be a single token ({@code <image>}, {@code <|image|>} or {@code
 * <|image_pad|>}), normally an added token so that it is never split.
 */
public final class HfTokenizer implements TextTokenizer {
  static final List<String> PAD_NAMES = List.of("<pad>", "[PAD]", "<|pad|>", "<|endoftext|>");
  static final List<String> BOS_NAMES =
      List.of("<bos>", "<s>", "[CLS]", "<|im_start|>", "<|begin_of_text|>", "<|endoftext|>");
  static final List<String> EOS_NAMES =
      List.of("<eos>", "</s>", "[SEP]", "<|im_end|>", "<|end_of_text|>", "<|endoftext|>");
  static final List<String> IMAGE_NAMES = List.of("<image>", "<|image|>", "<|image_pad|>");

  private final HuggingFaceTokenizer tokenizer;
  private final String json;
  private final String origin;
  private final Map<String, Integer> vocab;
  private final int vocabSize;
  private final int padId;
  private final int bosId;
  private final int eosId;
  private final int imageId;

  private HfTokenizer(String json, String origin) {
    this.json = json;
    this.origin = origin;
    this.vocab = readVocabulary(json, origin);
    this.vocabSize = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    this.padId = special(PAD_NAMES, "padding");
    this.bosId = special(BOS_NAMES, "beginning-of-sequence");
    this.eosId = special(EOS_NAMES, "end-of-sequence");
    this.imageId = special(IMAGE_NAMES, "image placeholder");
    // Truncation and padding off: the policy decides lengths, not the tokenizer.
    Map<String, String> options = Map.of("truncation", "false", "padding", "false");
    try {
      this.tokenizer =
          HuggingFaceTokenizer.newInstance(
              new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), options);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "cannot load Hugging Face tokenizer from " + origin + ": " + e.getMessage(), e);
    }
  }

  /** Loads {@code tokenizer.json} from a local path. */
  public static HfTokenizer load(Path tokenizerJson) {
    Objects.requireNonNull(tokenizerJson, "tokenizerJson");
    if (!Files.isRegularFile(tokenizerJson)) {
      throw new IllegalArgumentException(
          "tokenizer file " + tokenizerJson + " does not exist or is not a regular file");
    }
    try {
      return new HfTokenizer(Files.readString(tokenizerJson), tokenizerJson.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read tokenizer file " + tokenizerJson, e);
    }
  }

  /** Loads a tokenizer from the content of a {@code tokenizer.json}. */
  public static HfTokenizer fromJson(String tokenizerJson, String origin) {
    return new HfTokenizer(
        Objects.requireNonNull(tokenizerJson, "tokenizerJson"), origin == null ? "" : origin);
  }

  private static Map<String, Integer> readVocabulary(String json, String origin) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "tokenizer " + origin + " is not valid JSON: " + e.getMessage(), e);
    }
    Map<String, Integer> vocab = new HashMap<>();
    JsonNode modelVocab = root.path("model").path("vocab");
    if (modelVocab.isObject()) {
      // WordLevel, WordPiece, BPE: {"token": id, ...}
      for (Map.Entry<String, JsonNode> e : modelVocab.properties()) {
        vocab.put(e.getKey(), e.getValue().asInt());
      }
    } else if (modelVocab.isArray()) {
      // Unigram: [["piece", score], ...]; the id is the index.
      for (int i = 0; i < modelVocab.size(); i++) {
        vocab.put(modelVocab.get(i).get(0).asText(), i);
      }
    } else {
      throw new IllegalArgumentException(
          "tokenizer " + origin
              + " has no model.vocab (object or array); cannot size the vocabulary");
    }
    for (JsonNode added : root.path("added_tokens")) {
      vocab.put(added.path("content").asText(), added.path("id").asInt());
    }
    return vocab;
  }

  private int special(List<String> names, String role) {
    for (String name : names) {
      Integer id = vocab.get(name);
      if (id != null) {
        return id;
      }
    }
    throw new IllegalArgumentException(
        "tokenizer " + origin + " has no " + role + " token; expected one of " + names);
  }

  @Override
  public int[] encode(String text) {
    long[] ids = tokenizer.encode(Objects.requireNonNull(text, "text"), false, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  @Override
  public String decode(int[] ids) {
    int n = 0;
    for (int id : ids) {
      if (id != padId) {
        n++;
      }
    }
    long[] kept = new long[n];
    int j = 0;
    for (int id : ids) {
      if (id < 0 || id >= vocabSize) {
        throw new IllegalArgumentException(
            "token id " + id + " is out of range [0, " + vocabSize + ")");
      }
      if (id != padId) {
        kept[j++] = id;
      }
    }
    return tokenizer.decode(kept, false);
  }

  /**
   * The text of token ids as Hugging Face's {@code decode(ids, skip_special_tokens=...)} gives it:
   * with {@code skipSpecialTokens}, the added tokens marked special (e.g. {@code <|im_end|>},
   * {@code <|endoftext|>}) are left out. Unlike {@link #decode(int[])}, pad ids are not treated
   * specially and ids the tokenizer does not know (a model's vocabulary can be larger than the
   * tokenizer's) are dropped, as the native decoder does.
   */
  public String decode(int[] ids, boolean skipSpecialTokens) {
    long[] all = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0) {
        throw new IllegalArgumentException("token id " + ids[i] + " at index " + i + " is negative");
      }
      all[i] = ids[i];
    }
    return tokenizer.decode(all, skipSpecialTokens);
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public int padId() {
    return padId;
  }

  @Override
  public int bosId() {
    return bosId;
  }

  @Override
  public int eosId() {
    return eosId;
  }

  @Override
  public int imageId() {
    return imageId;
  }

  @Override
  public OptionalInt id(String token) {
    Integer id = vocab.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  @Override
  public TokenizerSource source() {
    return new TokenizerSource(TokenizerSource.Kind.HUGGING_FACE, List.of(), json, origin);
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  @Override
  public String toString() {
    return "HfTokenizer(" + origin + ", " + vocabSize + " ids)";
  }
}
