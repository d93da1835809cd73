package io.perlspark.model.family.qwen25vl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.model.hub.SafeTensors;
import io.perlspark.model.hub.SafeTensorsFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The parameter names and shapes of a Qwen2.5-VL model, and their loading from a checkpoint
 * folder ({@code model.safetensors}, or shards listed by {@code model.safetensors.index.json}).
 *
 * <p>Names are the Hub names ({@code model.layers.*}, {@code visual.*}, {@code lm_head.weight});
 * the transformers-v5 in-memory names ({@code model.language_model.*}, {@code model.visual.*})
 * are accepted and renamed. {@link #expected} lists them in the model's fixed order: text
 * embedding, decoder layers, final norm, LM head (untied only), then the vision tower.
 */
public final class Qwen25VlWeights {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Qwen25VlWeights() {}

  /** Every parameter name with its shape, in the model's fixed (flattening) order. */
  public static LinkedHashMap<String, Shape> expected(Qwen25VlConfig c) {
    LinkedHashMap<String, Shape> out = new LinkedHashMap<>();
    long h = c.hiddenSize();
    long qDim = (long) c.numHeads() * c.headDim();
    long kvDim = (long) c.numKvHeads() * c.headDim();
    long inter = c.intermediateSize();
    out.put("model.embed_tokens.weight", new Shape(c.vocabSize(), h));
    for (int i = 0; i < c.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      out.put(p + "input_layernorm.weight", new Shape(h));
      out.put(p + "self_attn.q_proj.weight", new Shape(qDim, h));
      out.put(p + "self_attn.q_proj.bias", new Shape(qDim));
      out.put(p + "self_attn.k_proj.weight", new Shape(kvDim, h));
      out.put(p + "self_attn.k_proj.bias", new Shape(kvDim));
      out.put(p + "self_attn.v_proj.weight", new Shape(kvDim, h));
      out.put(p + "self_attn.v_proj.bias", new Shape(kvDim));
      out.put(p + "self_attn.o_proj.weight", new Shape(h, qDim));
      out.put(p + "post_attention_layernorm.weight", new Shape(h));
      out.put(p + "mlp.gate_proj.weight", new Shape(inter, h));
      out.put(p + "mlp.up_proj.weight", new Shape(inter, h));
      out.put(p + "mlp.down_proj.weight", new Shape(h, inter));
    }
    out.put("model.norm.weight", new Shape(h));
    if (!c.tieWordEmbeddings()) {
      out.put("lm_head.weight", new Shape(c.vocabSize(), h));
    }
    Qwen25VlConfig.Vision v = c.vision();
    long vh = v.hiddenSize();
    long vi = v.intermediateSize();
    out.put("visual.patch_embed.proj.weight",
        new Shape(vh, v.inChannels(), v.temporalPatchSize(), v.patchSize(), v.patchSize()));
    for (int i = 0; i < v.depth(); i++) {
      String p = "visual.blocks." + i + ".";
      out.put(p + "norm1.weight", new Shape(vh));
      out.put(p + "attn.qkv.weight", new Shape(3 * vh, vh));
      out.put(p + "attn.qkv.bias", new Shape(3 * vh));
      out.put(p + "attn.proj.weight", new Shape(vh, vh));
      out.put(p + "attn.proj.bias", new Shape(vh));
      out.put(p + "norm2.weight", new Shape(vh));
      out.put(p + "mlp.gate_proj.weight", new Shape(vi, vh));
      out.put(p + "mlp.gate_proj.bias", new Shape(vi));
      out.put(p + "mlp.up_proj.weight", new Shape(vi, vh));
      out.put(p + "mlp.up_proj.bias", new Shape(vi));
      out.put(p + "mlp.down_proj.weight", new Shape(vh, vi));
      out.put(p + "mlp.down_proj.bias", new Shape(vh));
    }
    long merged = vh * v.mergeUnit();
    out.put("visual.merger.ln_q.weight", new Shape(vh));
    out.put("visual.merger.mlp.0.weight", new Shape(merged, merged));
    out.put("visual.merger.mlp.0.bias", new Shape(merged));
    out.put("visual.merger.mlp.2.weight", new Shape(c.hiddenSize(), merged));
    out.put("visual.merger.mlp.2.bias", new Shape(c.hiddenSize()));
    return out;
  }

  /** The Hub name of a stored key (v5 in-memory names are renamed; Hub names are kept). */
  public static String hubName(String stored) {
    if (stored.startsWith("model.language_model.")) {
      return "model." + stored.substring("model.language_model.".length());
    }
    if (stored.startsWith("model.visual.")) {
      return stored.substring("model.".length());
    }
    return stored;
  }

  /**
   * Loads every expected tensor of a checkpoint folder as float32 into {@code manager}, keyed by
   * Hub name in {@link #expected} order. Stops, naming the tensor and its file, at a missing,
   * unexpected, duplicated or mis-shaped tensor. Tensors go from the mapped file straight to
   * native memory ({@link SafeTensors}); the caller owns the arrays (they are in its manager).
   */
  public static LinkedHashMap<String, NDArray> load(
      Path folder, Qwen25VlConfig config, NDManager manager) throws IOException {
    return load(folder, config, manager, DataType.FLOAT32);
  }

  /**
   * As {@link #load(Path, Qwen25VlConfig, NDManager)} into {@code dtype}: a stored type equal to
   * it is read as is; any other floating type is converted once, tensor by tensor (a bf16 file
   * widens exactly to float32 first, see {@link SafeTensors#load}), so at most one tensor exists
   * twice at a time.
   */
  public static LinkedHashMap<String, NDArray> load(
      Path folder, Qwen25VlConfig config, NDManager manager, DataType dtype) throws IOException {
    LinkedHashMap<String, Shape> expected = expected(config);
    try (SafeTensorsFolder files = SafeTensorsFolder.open(folder)) {
      // Hub name -> stored name (v5 in-memory names are renamed to the Hub's)
      Map<String, String> storedName = new LinkedHashMap<>();
      List<String> unexpected = new ArrayList<>();
      for (String stored : files.names()) {
        String hub = hubName(stored);
        if (!expected.containsKey(hub)) {
          unexpected.add(stored + " (in " + files.fileOf(stored).file().getFileName() + ")");
          continue;
        }
        String previous = storedName.put(hub, stored);
        if (previous != null) {
          throw new IOException(folder + ": tensor " + hub + " is stored twice, as " + previous
              + " and as " + stored);
        }
      }
      if (!unexpected.isEmpty()) {
        String why = config.tieWordEmbeddings() && unexpected.stream().anyMatch(
            u -> u.startsWith("lm_head.weight")) ? " (tie_word_embeddings is true: the head is the"
            + " embedding matrix, so no lm_head.weight is expected)" : "";
        throw new IOException(folder + ": unexpected tensor(s) for " + config.numLayers()
            + " text layers / " + config.vision().depth() + " vision blocks: " + unexpected + why);
      }
      List<String> missing = new ArrayList<>();
      for (String name : expected.keySet()) {
        if (!storedName.containsKey(name)) {
          missing.add(name);
        }
      }
      if (!missing.isEmpty()) {
        throw new IOException(folder + ": missing tensor(s): " + missing
            + (missing.contains("lm_head.weight") ? " (tie_word_embeddings is false, so the"
                + " checkpoint needs its own lm_head.weight)" : ""));
      }
      // Shapes first, from the headers only: a bad checkpoint fails before any allocation.
      for (Map.Entry<String, Shape> e : expected.entrySet()) {
        String name = storedName.get(e.getKey());
        long[] shape = files.info(name).shape();
        if (!Arrays.equals(shape, e.getValue().getShape())) {
          throw new IOException(files.fileOf(name).file() + ": tensor " + name + " has shape "
              + Arrays.toString(shape) + " but the config needs " + e.getValue());
        }
      }
      LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
      try {
        for (String hub : expected.keySet()) {
          out.put(hub, files.load(storedName.get(hub), manager, dtype));
        }
        return out;
      } catch (IOException | RuntimeException e) {
        out.values().forEach(NDArray::close);
        throw e;
      }
    }
  }

  /** Names in order (unmodifiable). */
  public static List<String> names(Qwen25VlConfig c) {
    return Collections.unmodifiableList(new ArrayList<>(expected(c).keySet()));
  }
}
