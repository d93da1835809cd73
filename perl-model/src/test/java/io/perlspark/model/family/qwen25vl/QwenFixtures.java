package io.perlspark.model.family.qwen25vl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.model.hub.SafeTensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The Qwen2.5-VL reference fixtures (Hugging Face transformers outputs; see
 * {@code src/test/resources/qwen25vl/PROVENANCE.md}). The folder is the test resources' copy unless
 * the system property {@code perl.qwen25vl.fixtures} names another folder of the same layout, so
 * further fixture sets run through the same tests without code changes.
 */
public final class QwenFixtures implements AutoCloseable {
  public static final String FOLDER_PROPERTY = "perl.qwen25vl.fixtures";

  private final Path folder;
  private final JsonNode cases;
  private final SafeTensors tensors;

  private QwenFixtures(Path folder) throws IOException {
    this.folder = folder;
    this.cases = new ObjectMapper().readTree(folder.resolve("cases.json").toFile());
    this.tensors = SafeTensors.open(folder.resolve("cases.safetensors"));
  }

  /** Opens the fixture folder (see the class comment). */
  public static QwenFixtures open() {
    try {
      String override = System.getProperty(FOLDER_PROPERTY);
      Path folder = override != null && !override.isBlank()
          ? Path.of(override)
          : Path.of(QwenFixtures.class.getResource("/qwen25vl/cases.json").toURI()).getParent();
      return new QwenFixtures(folder);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  public Path folder() {
    return folder;
  }

  /** A checkpoint folder: {@code tiny-tied} or {@code tiny-untied}. */
  public Path checkpoint(String name) {
    return folder.resolve(name);
  }

  public Path tokenizerJson() {
    return folder.resolve("tokenizer.json");
  }

  public Path image(String name) {
    return folder.resolve("images").resolve(name + ".png");
  }

  /** The whole of {@code cases.json}. */
  public JsonNode json() {
    return cases;
  }

  /** {@code cases.json -> cases -> <name>} (A, B, C, D). */
  public JsonNode caseJson(String name) {
    return cases.get("cases").get(name);
  }

  public boolean has(String tensor) {
    return tensors.contains(tensor);
  }

  /** A reference tensor as float32 (e.g. {@code tiny-tied/A/lm/layer0_out}). */
  public NDArray tensor(String name, NDManager manager) {
    return tensor(name, manager, DataType.FLOAT32);
  }

  public NDArray tensor(String name, NDManager manager, DataType type) {
    try {
      return tensors.load(name, manager, type);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public long[] longs(String name, NDManager manager) {
    try (NDArray a = tensor(name, manager, DataType.INT64)) {
      return a.toLongArray();
    }
  }

  public SafeTensors safeTensors() {
    return tensors;
  }

  @Override
  public void close() throws IOException {
    tensors.close();
  }
}
