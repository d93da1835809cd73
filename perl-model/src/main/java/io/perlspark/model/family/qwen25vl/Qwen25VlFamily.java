package io.perlspark.model.family.qwen25vl;

import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.LoraSettings;
import io.perlspark.common.config.ModelConfig;
import io.perlspark.model.checkpoint.RemoteFolder;
import io.perlspark.model.family.ModelFamily;
import io.perlspark.model.family.RecipeContext;
import io.perlspark.model.tokenizer.ChatTemplate;
import io.perlspark.model.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/**
 * {@code model.family: qwen2_5_vl}: a Qwen2.5-VL checkpoint in Hugging Face layout at {@code
 * model.path} (a local folder, {@code hdfs://} or {@code s3a://}). The folder needs {@code
 * config.json}, {@code model.safetensors} (or {@code model.safetensors.index.json} and its shards),
 * {@code tokenizer.json} and a chat template ({@code chat_template.json}/{@code .jinja} or in {@code
 * tokenizer_config.json}); {@code preprocessor_config.json} and {@code generation_config.json} are
 * read when present. The model's sizes come from config.json; {@code model.maxSeqLen} bounds
 * prompt + response; {@code model.tokenizer} must stay {@code builtin} (the folder's tokenizer).
 */
public final class Qwen25VlFamily implements ModelFamily {
  public static final String NAME = ModelConfig.QWEN2_5_VL;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<ConfigException.Problem> validate(ModelConfig config) {
    if (!Tokenizers.BUILTIN.equals(config.tokenizer())) {
      return List.of(new ConfigException.Problem("model.tokenizer", "'" + config.tokenizer()
          + "': model.family=" + NAME + " uses the tokenizer.json of model.path; leave"
          + " model.tokenizer at builtin"));
    }
    return List.of();
  }

  /**
   * {@inheritDoc} The base's parameters are the checkpoint's; the context's seed draws the initial
   * LoRA adapters (when {@code model.lora.enabled}); its Hadoop settings read {@code model.path}
   * here and travel with the recipe to executors.
   */
  @Override
  public Qwen25VlRecipe recipe(ModelConfig config, RecipeContext context) {
    Qwen25VlRecipe base = recipe(config, context.hadoopConfiguration());
    if (!config.loraEnabled()) {
      return base;
    }
    LoraSettings l = config.lora();
    Qwen25VlRecipe.Lora lora;
    try {
      lora = new Qwen25VlRecipe.Lora(l.rank(), l.alpha(), l.targetList(), l.rslora(), l.vision(),
          context.initSeed());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("model.lora", e.getMessage());
    }
    Qwen25VlRecipe recipe = new Qwen25VlRecipe(base.folder(), base.configJson(),
        base.generationConfigJson(), base.maxPixels(), base.maxSequenceLength(), base.dtype(), lora);
    try {
      recipe.loraModules(); // targets that match nothing fail here, before any Spark work
    } catch (IllegalArgumentException e) {
      throw new ConfigException("model.lora.targets", e.getMessage());
    }
    return recipe;
  }

  /**
   * The recipe of {@code config}, reading {@code model.path} with the Hadoop settings {@code
   * hadoop} (the Spark application's, so {@code spark.hadoop.*} endpoints and credentials apply;
   * they travel with the recipe to executors). Reads config.json and checks the other files here,
   * on the driver, so a bad folder fails before any Spark work.
   *
   * @throws ConfigException on {@code model.path}, naming the file
   */
  public Qwen25VlRecipe recipe(ModelConfig config, Configuration hadoop) {
    String path = config.path();
    if (path == null || path.isBlank()) {
      throw new ConfigException("model.path", "missing; model.family=" + NAME
          + " needs the model's folder");
    }
    RemoteFolder folder = RemoteFolder.of(path, hadoop);
    Path local;
    try {
      local = folder.localFolder();
    } catch (IOException | RuntimeException e) {
      throw new ConfigException("model.path", e.getMessage());
    }
    String configJson;
    String generation = null;
    try {
      Path cfg = local.resolve("config.json");
      if (!Files.isRegularFile(cfg)) {
        throw new ConfigException("model.path", path + " has no config.json");
      }
      configJson = Files.readString(cfg);
      Path gen = local.resolve("generation_config.json");
      if (Files.isRegularFile(gen)) {
        generation = Files.readString(gen);
      }
    } catch (IOException e) {
      throw new ConfigException("model.path", "cannot read " + path + ": " + e.getMessage());
    }
    if (!Files.isRegularFile(local.resolve("tokenizer.json"))) {
      throw new ConfigException("model.path", path + " has no tokenizer.json");
    }
    if (!Files.isRegularFile(local.resolve("model.safetensors"))
        && !Files.isRegularFile(local.resolve("model.safetensors.index.json"))) {
      throw new ConfigException("model.path",
          path + " has no model.safetensors and no model.safetensors.index.json");
    }
    try {
      ChatTemplate.load(local);
    } catch (RuntimeException e) {
      throw new ConfigException("model.path", e.getMessage());
    }
    Qwen25VlRecipe recipe;
    try {
      recipe = new Qwen25VlRecipe(folder, configJson, generation, null, config.maxSeqLen(),
          config.dtype());
      recipe.config(); // parse now: a bad config.json fails here, naming its key
    } catch (IllegalArgumentException e) {
      throw new ConfigException("model.path", path + "/config.json: " + e.getMessage());
    }
    return recipe;
  }

  /** A seeded random-init folder in the Hub's format ({@link Qwen25VlRandomInit}). */
  @Override
  public io.perlspark.model.family.InitRequest.Written initCheckpoint(io.perlspark.model.family.InitRequest r)
      throws IOException {
    io.perlspark.model.hub.SafeTensorsWriter.Dtype dtype = switch (r.dtype()) {
      case "bfloat16" -> io.perlspark.model.hub.SafeTensorsWriter.Dtype.BF16;
      case "float16" -> io.perlspark.model.hub.SafeTensorsWriter.Dtype.F16;
      case "float32" -> io.perlspark.model.hub.SafeTensorsWriter.Dtype.F32;
      default -> throw new IllegalArgumentException("dtype " + r.dtype() + ": allowed: bfloat16, float16, float32");
    };
    Qwen25VlRandomInit.Summary s = Qwen25VlRandomInit.write(r.config(), r.tokenizerFolder(), r.out(), r.seed(), dtype,
        r.maxShardBytes());
    return new io.perlspark.model.family.InitRequest.Written(s.folder(), s.parameters(), s.weightFiles().size(),
        s.weightBytes());
  }
}
