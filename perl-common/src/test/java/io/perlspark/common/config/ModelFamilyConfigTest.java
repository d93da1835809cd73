package io.perlspark.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** model.family and model.path: which combinations load, and what a wrong one is told. */
class ModelFamilyConfigTest {

  private static ConfigException fails(String... overrides) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of(overrides)));
  }

  private static ModelConfig model(String... overrides) {
    return ConfigLoader.load(null, List.of(overrides)).model();
  }

  @Test
  void theDefaultIsTheBuiltinModelWithoutFiles() {
    ModelConfig m = PerlConfig.defaults().model();
    assertEquals("builtin", m.family());
    assertNull(m.path());
  }

  @Test
  void anUnknownFamilyListsTheKnownOnes() {
    ConfigException e = fails("model.family=llava");
    assertEquals(
        "model.family: 'llava' is not allowed; must be one of builtin | qwen2_5_vl",
        e.getMessage());
  }

  @Test
  void qwenWithoutAPathIsAnErrorOnModelPath() {
    ConfigException e = fails("model.family=qwen2_5_vl");
    assertEquals(List.of("model.path"), e.keys());
    assertTrue(e.getMessage().contains("missing; model.family=qwen2_5_vl needs the model's folder"),
        e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/models/Qwen2.5-VL-3B-Instruct",
        "models/qwen",
        "hdfs://nn:8020/models/qwen",
        "s3a://bucket/models/qwen/",
        "file:///tmp/qwen"
      })
  void qwenAcceptsLocalFoldersAndHadoopUris(String path) {
    ModelConfig m = model("model.family=qwen2_5_vl", "model.path=" + path);
    assertEquals(path, m.path());
    assertEquals("qwen2_5_vl", m.family());
  }

  @Test
  void s3WithoutTheAIsRefusedWithAHint() {
    ConfigException e = fails("model.family=qwen2_5_vl", "model.path=s3://bucket/qwen");
    assertEquals("model.path", e.key());
    assertTrue(e.getMessage().contains("use s3a://"), e.getMessage());
  }

  @Test
  void anUnknownSchemeIsRefused() {
    ConfigException e = fails("model.family=qwen2_5_vl", "model.path=ftp://host/qwen");
    assertEquals("model.path", e.key());
    assertTrue(e.getMessage().contains("the scheme ftp: is not one of file | hdfs | s3a"),
        e.getMessage());
  }

  @Test
  void aFileInsideTheFolderIsRefused() {
    ConfigException e =
        fails("model.family=qwen2_5_vl", "model.path=/models/qwen/model.safetensors");
    assertEquals("model.path", e.key());
    assertTrue(e.getMessage().contains("must be the model's folder"), e.getMessage());
  }

  @Test
  void theBuiltinModelTakesNoPath() {
    ConfigException e = fails("model.path=/models/qwen");
    assertEquals("model.path", e.key());
    assertTrue(e.getMessage().contains("the built-in model has no files"), e.getMessage());
  }

  @Test
  void builtinSizeKeysAreRefusedForQwenNamingEachKey() {
    ConfigException e =
        fails("model.family=qwen2_5_vl", "model.path=/m", "model.dModel=128", "model.layers=4");
    assertEquals(List.of("model.dModel", "model.layers"), e.keys());
    assertTrue(e.getMessage().contains("applies only to model.family=builtin"), e.getMessage());
    // maxSeqLen is every family's: a longer context is fine.
    assertEquals(4096, model("model.family=qwen2_5_vl", "model.path=/m", "model.maxSeqLen=4096")
        .maxSeqLen());
  }

  @Test
  void theRetiredTypeKeySaysWhatReplacedIt() {
    ConfigException e = fails("model.type=tiny-vlm");
    assertEquals("model.type", e.key());
    assertTrue(e.getMessage().contains("model.type was replaced by model.family"), e.getMessage());
    assertTrue(e.getMessage().contains("'family: builtin'"), e.getMessage());
    ConfigException inFile =
        assertThrows(
            ConfigException.class,
            () -> ConfigLoader.fromYamlString("model:\n  type: tiny-vlm\n", List.of()));
    assertEquals("model.type", inFile.key());
  }

  @Test
  void aMisspeltFamilyKeyGetsADidYouMean() {
    ConfigException e = fails("model.famly=builtin");
    assertTrue(e.getMessage().contains("did you mean model.family?"), e.getMessage());
  }
}
