package io.perlspark.model.family.qwen25vl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The sizes of a Qwen2.5-VL checkpoint, read from its {@code config.json}.
 *
 * <p>Two layouts exist and both are read: the flat Hub layout of the published checkpoints
 * (top-level text fields, {@code rope_scaling: {type: mrope, mrope_section}}, {@code
 * vision_config.in_chans}) and the nested layout written by transformers v5 ({@code text_config}
 * with {@code rope_parameters}, {@code vision_config.in_channels}). A nested field wins over a
 * top-level one, because v5 files may keep stale top-level copies.
 *
 * @param eosTokenIds the stop ids of {@code generation_config.json} when present, else the
 *     config's {@code eos_token_id}
 */
public record Qwen25VlConfig(
    int vocabSize,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int intermediateSize,
    double rmsNormEps,
    double ropeTheta,
    int[] mropeSection,
    boolean tieWordEmbeddings,
    int imageTokenId,
    int videoTokenId,
    int visionStartTokenId,
    int visionEndTokenId,
    int[] eosTokenIds,
    int padTokenId,
    Vision vision) {

  /** Vision tower sizes. */
  public record Vision(
      int depth,
      int hiddenSize,
      int numHeads,
      int intermediateSize,
      int outHiddenSize,
      int patchSize,
      int temporalPatchSize,
      int spatialMergeSize,
      int inChannels,
      int windowSize,
      int[] fullAttentionBlocks,
      double ropeTheta,
      double rmsNormEps) {

    public int headDim() {
      return hiddenSize / numHeads;
    }

    /** Columns of one flattened patch: channels x temporal x patch x patch (1176). */
    public int patchDim() {
      return inChannels * temporalPatchSize * patchSize * patchSize;
    }

    /** Side of an attention window in merged tokens ({@code window_size / merge / patch}). */
    public int mergedWindow() {
      return windowSize / spatialMergeSize / patchSize;
    }

    public int mergeUnit() {
      return spatialMergeSize * spatialMergeSize;
    }

    public boolean isFullAttention(int block) {
      for (int b : fullAttentionBlocks) {
        if (b == block) {
          return true;
        }
      }
      return false;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Vision v
          && depth == v.depth && hiddenSize == v.hiddenSize && numHeads == v.numHeads
          && intermediateSize == v.intermediateSize && outHiddenSize == v.outHiddenSize
          && patchSize == v.patchSize && temporalPatchSize == v.temporalPatchSize
          && spatialMergeSize == v.spatialMergeSize && inChannels == v.inChannels
          && windowSize == v.windowSize && Arrays.equals(fullAttentionBlocks, v.fullAttentionBlocks)
          && ropeTheta == v.ropeTheta && rmsNormEps == v.rmsNormEps;
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(fullAttentionBlocks) * 31 + depth * 7 + hiddenSize;
    }

    @Override
    public String toString() {
      return "Vision(depth=" + depth + ", hidden=" + hiddenSize + ", heads=" + numHeads
          + ", inter=" + intermediateSize + ", out=" + outHiddenSize + ", patch=" + patchSize
          + ", temporal=" + temporalPatchSize + ", merge=" + spatialMergeSize + ", window="
          + windowSize + ", fullatt=" + Arrays.toString(fullAttentionBlocks) + ")";
    }
  }

  /** Vision RMSNorm epsilon: Qwen2.5-VL hard-codes 1e-6 (not in config.json). */
  static final double VISION_RMS_EPS = 1e-6;
  /** Vision rotary base: hard-coded 10000 in Qwen2.5-VL unless the v5 config names another. */
  static final double VISION_ROPE_THETA = 10000.0;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Reads {@code config.json} (and {@code generation_config.json} if present) from a folder. */
  public static Qwen25VlConfig load(Path checkpointFolder) throws IOException {
    Path config = checkpointFolder.resolve("config.json");
    Path generation = checkpointFolder.resolve("generation_config.json");
    return parse(config, Files.exists(generation) ? generation : null);
  }

  /** Parses a config file in either layout; {@code generationConfig} may be null. */
  public static Qwen25VlConfig parse(Path configFile, Path generationConfig) throws IOException {
    JsonNode root = JSON.readTree(configFile.toFile());
    JsonNode gen = generationConfig == null ? null : JSON.readTree(generationConfig.toFile());
    try {
      return fromJson(root, gen);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(configFile + ": " + e.getMessage(), e);
    }
  }

  /** As {@link #parse} from parsed JSON. */
  public static Qwen25VlConfig fromJson(JsonNode root, JsonNode generation) {
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("config is not a JSON object");
    }
    JsonNode text = root.has("text_config") ? root.get("text_config") : root;
    Fields t = new Fields(text, root, text == root ? "" : "text_config.");
    int hidden = t.integer("hidden_size");
    int heads = t.integer("num_attention_heads");
    int kvHeads = t.optInteger("num_key_value_heads", heads);
    int headDim = t.optInteger("head_dim", heads > 0 ? hidden / heads : 0);
    JsonNode rope = firstObject(text.get("rope_parameters"), root.get("rope_parameters"),
        text.get("rope_scaling"), root.get("rope_scaling"));
    if (rope == null || rope.get("mrope_section") == null) {
      throw new IllegalArgumentException(
          "missing key rope_scaling.mrope_section (flat layout) or text_config.rope_parameters"
              + ".mrope_section (nested layout)");
    }
    int[] mrope = intArray(rope.get("mrope_section"), "mrope_section");
    double theta = rope.has("rope_theta") ? rope.get("rope_theta").asDouble()
        : t.number("rope_theta");

    JsonNode v = root.get("vision_config");
    if (v == null || !v.isObject()) {
      throw new IllegalArgumentException("missing key vision_config");
    }
    Fields vf = new Fields(v, null, "vision_config.");
    int vHidden = vf.integer("hidden_size");
    int patch = vf.has("patch_size") ? vf.integer("patch_size") : vf.integer("spatial_patch_size");
    int inChans = vf.has("in_channels") ? vf.integer("in_channels")
        : vf.optInteger("in_chans", 3);
    JsonNode vRope = v.get("rope_parameters");
    double vTheta = vRope != null && vRope.has("rope_theta")
        ? vRope.get("rope_theta").asDouble() : VISION_ROPE_THETA;
    Vision vision = new Vision(
        vf.integer("depth"), vHidden, vf.integer("num_heads"), vf.integer("intermediate_size"),
        vf.optInteger("out_hidden_size", hidden), patch, vf.optInteger("temporal_patch_size", 2),
        vf.optInteger("spatial_merge_size", 2), inChans, vf.integer("window_size"),
        v.has("fullatt_block_indexes") ? intArray(v.get("fullatt_block_indexes"),
            "vision_config.fullatt_block_indexes") : new int[0],
        vTheta, VISION_RMS_EPS);

    int[] eos;
    JsonNode genEos = generation == null ? null : generation.get("eos_token_id");
    if (genEos != null && !genEos.isNull()) {
      eos = genEos.isArray() ? intArray(genEos, "generation_config.eos_token_id")
          : new int[] {genEos.asInt()};
    } else if (t.has("eos_token_id")) {
      JsonNode e = t.node("eos_token_id");
      eos = e.isArray() ? intArray(e, "eos_token_id") : new int[] {e.asInt()};
    } else {
      eos = new int[0];
    }
    int pad = generation != null && generation.hasNonNull("pad_token_id")
        ? generation.get("pad_token_id").asInt()
        : t.optInteger("pad_token_id", eos.length > 0 ? eos[eos.length - 1] : 0);
    boolean tie = root.has("tie_word_embeddings") ? root.get("tie_word_embeddings").asBoolean()
        : text.has("tie_word_embeddings") && text.get("tie_word_embeddings").asBoolean();
    Fields top = new Fields(root, text, "");
    Qwen25VlConfig c = new Qwen25VlConfig(
        t.integer("vocab_size"), hidden, t.integer("num_hidden_layers"), heads, kvHeads, headDim,
        t.integer("intermediate_size"), t.number("rms_norm_eps"), theta, mrope, tie,
        top.optInteger("image_token_id", 151655), top.optInteger("video_token_id", 151656),
        top.optInteger("vision_start_token_id", 151652),
        top.optInteger("vision_end_token_id", 151653), eos, pad, vision);
    c.validate();
    return c;
  }

  /** Checks the sizes fit together; the message names the offending key. */
  public void validate() {
    positive("vocab_size", vocabSize);
    positive("hidden_size", hiddenSize);
    positive("num_hidden_layers", numLayers);
    positive("num_attention_heads", numHeads);
    positive("num_key_value_heads", numKvHeads);
    positive("head_dim", headDim);
    positive("intermediate_size", intermediateSize);
    if (numHeads % numKvHeads != 0) {
      throw new IllegalArgumentException("num_attention_heads=" + numHeads
          + " is not a multiple of num_key_value_heads=" + numKvHeads);
    }
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException("head_dim=" + headDim + " must be even for rotary");
    }
    if (mropeSection.length != 3 || Arrays.stream(mropeSection).sum() * 2 != headDim) {
      throw new IllegalArgumentException("mrope_section=" + Arrays.toString(mropeSection)
          + " must have 3 entries summing to head_dim/2=" + headDim / 2);
    }
    if (!(rmsNormEps > 0) || !(ropeTheta > 0)) {
      throw new IllegalArgumentException("rms_norm_eps and rope_theta must be > 0");
    }
    Vision v = vision;
    positive("vision_config.depth", v.depth());
    positive("vision_config.hidden_size", v.hiddenSize());
    positive("vision_config.num_heads", v.numHeads());
    positive("vision_config.intermediate_size", v.intermediateSize());
    positive("vision_config.patch_size", v.patchSize());
    positive("vision_config.spatial_merge_size", v.spatialMergeSize());
    positive("vision_config.temporal_patch_size", v.temporalPatchSize());
    if (v.hiddenSize() % v.numHeads() != 0 || v.headDim() % 4 != 0) {
      throw new IllegalArgumentException("vision_config.hidden_size=" + v.hiddenSize()
          + " / num_heads=" + v.numHeads() + " must give a head size divisible by 4 (2-D rotary)");
    }
    if (v.outHiddenSize() != hiddenSize) {
      throw new IllegalArgumentException("vision_config.out_hidden_size=" + v.outHiddenSize()
          + " must equal the text hidden_size=" + hiddenSize);
    }
    if (v.mergedWindow() < 1) {
      throw new IllegalArgumentException("vision_config.window_size=" + v.windowSize()
          + " is smaller than one merged token (" + v.spatialMergeSize() * v.patchSize() + ")");
    }
    for (int b : v.fullAttentionBlocks()) {
      if (b < 0 || b >= v.depth()) {
        throw new IllegalArgumentException("vision_config.fullatt_block_indexes has " + b
            + ", outside 0.." + (v.depth() - 1));
      }
    }
  }

  /** Whether {@code id} is one of the vision special tokens (never generated). */
  public boolean isVisionSpecial(int id) {
    return id >= Math.min(visionStartTokenId, videoTokenId)
        && id <= Math.max(visionStartTokenId, videoTokenId);
  }

  /** The vision special ids 151652..151656 (start, end, pad, image pad, video pad). */
  public int[] visionSpecialIds() {
    int lo = Math.min(visionStartTokenId, Math.min(visionEndTokenId, imageTokenId));
    int hi = Math.max(videoTokenId, Math.max(visionEndTokenId, imageTokenId));
    int[] ids = new int[hi - lo + 1];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = lo + i;
    }
    return ids;
  }

  private static void positive(String key, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(key + "=" + value + " must be > 0");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Qwen25VlConfig c
        && vocabSize == c.vocabSize && hiddenSize == c.hiddenSize && numLayers == c.numLayers
        && numHeads == c.numHeads && numKvHeads == c.numKvHeads && headDim == c.headDim
        && intermediateSize == c.intermediateSize && rmsNormEps == c.rmsNormEps
        && ropeTheta == c.ropeTheta && Arrays.equals(mropeSection, c.mropeSection)
        && tieWordEmbeddings == c.tieWordEmbeddings && imageTokenId == c.imageTokenId
        && videoTokenId == c.videoTokenId && visionStartTokenId == c.visionStartTokenId
        && visionEndTokenId == c.visionEndTokenId && Arrays.equals(eosTokenIds, c.eosTokenIds)
        && padTokenId == c.padTokenId && vision.equals(c.vision);
  }

  @Override
  public int hashCode() {
    return ((vocabSize * 31 + hiddenSize) * 31 + numLayers) * 31 + vision.hashCode();
  }

  @Override
  public String toString() {
    return "Qwen25VlConfig(vocab=" + vocabSize + ", hidden=" + hiddenSize + ", layers="
        + numLayers + ", heads=" + numHeads + "/" + numKvHeads + ", headDim=" + headDim
        + ", inter=" + intermediateSize + ", mrope=" + Arrays.toString(mropeSection)
        + ", theta=" + ropeTheta + ", tied=" + tieWordEmbeddings + ", eos="
        + Arrays.toString(eosTokenIds) + ", " + vision + ")";
  }

  private static JsonNode firstObject(JsonNode... nodes) {
    for (JsonNode n : nodes) {
      if (n != null && n.isObject()) {
        return n;
      }
    }
    return null;
  }

  private static int[] intArray(JsonNode node, String key) {
    if (node == null || !node.isArray()) {
      throw new IllegalArgumentException("key " + key + " must be a list of integers");
    }
    List<Integer> out = new ArrayList<>();
    for (JsonNode n : node) {
      if (!n.canConvertToInt()) {
        throw new IllegalArgumentException("key " + key + " holds a non-integer: " + n);
      }
      out.add(n.asInt());
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Reads keys from a primary object, falling back to a second one; errors name the key. */
  private record Fields(JsonNode primary, JsonNode fallback, String prefix) {
    boolean has(String key) {
      return node(key) != null;
    }

    JsonNode node(String key) {
      JsonNode n = primary.get(key);
      if ((n == null || n.isNull()) && fallback != null) {
        n = fallback.get(key);
      }
      return n == null || n.isNull() ? null : n;
    }

    int integer(String key) {
      JsonNode n = node(key);
      if (n == null) {
        throw new IllegalArgumentException("missing key " + prefix + key);
      }
      if (!n.canConvertToInt()) {
        throw new IllegalArgumentException("key " + prefix + key + " must be an integer, got " + n);
      }
      return n.asInt();
    }

    int optInteger(String key, int fallbackValue) {
      return has(key) ? integer(key) : fallbackValue;
    }

    double number(String key) {
      JsonNode n = node(key);
      if (n == null) {
        throw new IllegalArgumentException("missing key " + prefix + key);
      }
      if (!n.isNumber()) {
        throw new IllegalArgumentException("key " + prefix + key + " must be a number, got " + n);
      }
      return n.asDouble();
    }
  }
}
