package io.perlspark.model.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Whether this JVM's PyTorch engine can hold bfloat16 tensors, found out without risking the JVM.
 *
 * <p>Upstream DJL 0.36's JNI maps no bfloat16: {@code toType(BFLOAT16)} reaches a bare C++
 * {@code throw;} and the process aborts, so the question cannot be asked in-process. A child JVM
 * (same java binary, this JVM's class path plus the jars of this class and of DJL, the DJL/JNA
 * system properties, the inherited environment with {@code PYTORCH_*} and {@code DJL_*}) converts
 * {@code zeros(2)} to bfloat16 and back; only a clean exit with the expected line counts as
 * support. The answer is cached per JVM (it takes a few seconds: the child loads libtorch).
 */
public final class Bfloat16Support {
  /** What the child prints when the round trip worked. */
  static final String OK_LINE = "perl-bf16-probe: ok";

  /** How to get a JNI that can: the project's recipe. */
  public static final String HOW_TO_GET_IT = "build DJL's PyTorch JNI with bfloat16 against your"
      + " libtorch with deploy/gpu/build-jni.sh and point PYTORCH_LIBRARY_PATH / PYTORCH_VERSION /"
      + " PYTORCH_FLAVOR at it (deploy/README.md); upstream DJL 0.36 maps no bfloat16 and would"
      + " abort the JVM";

  private static final long TIMEOUT_SECONDS = 180;
  /** System properties the child needs to find the same engine (offline, cache dirs, natives). */
  private static final List<String> PROPERTY_PREFIXES = List.of(
      "ai.djl.", "jna.", "DJL_", "PYTORCH_", "ENGINE_CACHE_DIR", "offline", "java.library.path",
      "java.io.tmpdir");

  private static volatile Result cached;

  private Bfloat16Support() {}

  /**
   * The outcome of the probe.
   *
   * @param supported the round trip worked
   * @param detail what the child reported (exit code and last output lines) when it did not
   */
  public record Result(boolean supported, String detail) {}

  /** Probes once per JVM (in a child JVM); later calls return the same answer. */
  public static Result probe() {
    Result r = cached;
    if (r == null) {
      synchronized (Bfloat16Support.class) {
        r = cached;
        if (r == null) {
          r = runChild();
          cached = r;
        }
      }
    }
    return r;
  }

  private static Result runChild() {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    for (Map.Entry<Object, Object> e : System.getProperties().entrySet()) {
      String key = String.valueOf(e.getKey());
      if (PROPERTY_PREFIXES.stream().anyMatch(key::startsWith)) {
        command.add("-D" + key + "=" + e.getValue());
      }
    }
    command.add("-Xmx256m");
    command.add("-cp");
    command.add(classPath());
    command.add(Bfloat16Support.class.getName());
    Process child;
    try {
      child = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      return new Result(false, "could not start the probe JVM: " + e.getMessage());
    }
    try (InputStream out = child.getInputStream()) {
      child.getOutputStream().close();
      // read everything (a full pipe would block the child), keep the tail for the message
      String text = new String(out.readAllBytes(), StandardCharsets.UTF_8);
      if (!child.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        child.destroyForcibly();
        return new Result(false, "the probe JVM did not finish in " + TIMEOUT_SECONDS + " s");
      }
      int code = child.exitValue();
      if (code == 0 && text.contains(OK_LINE)) {
        return new Result(true, "");
      }
      return new Result(false, "probe JVM exit code " + code + ": " + tail(text));
    } catch (IOException e) {
      child.destroyForcibly();
      return new Result(false, "probe JVM output unreadable: " + e.getMessage());
    } catch (InterruptedException e) {
      child.destroyForcibly();
      Thread.currentThread().interrupt();
      return new Result(false, "interrupted while probing");
    }
  }

  /**
   * This JVM's class path plus the code sources of this class and DJL's: on a Spark executor the
   * application jar is loaded by Spark's own class loader, not from {@code java.class.path}.
   */
  static String classPath() {
    Set<String> entries = new LinkedHashSet<>();
    for (Class<?> c : new Class<?>[] {Bfloat16Support.class, NDManager.class,
        ai.djl.pytorch.engine.PtEngine.class, com.google.gson.Gson.class,
        org.slf4j.LoggerFactory.class}) {
      Path p = codeSource(c);
      if (p != null) {
        entries.add(p.toString());
      }
    }
    ClassLoader loader = Bfloat16Support.class.getClassLoader();
    // DJL's native jar (the JNI for its libtorch) is found as a resource, not a class
    java.net.URL jni = loader == null ? null : loader.getResource("jnilib/pytorch.properties");
    if (jni != null && "jar".equals(jni.getProtocol())) {
      String s = jni.getPath();
      int bang = s.indexOf("!/");
      try {
        entries.add(Paths.get(new java.net.URI(s.substring(0, bang))).toString());
      } catch (URISyntaxException | RuntimeException ignored) {
        // the class path below may still hold it
      }
    }
    for (String e : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
      if (!e.isEmpty()) {
        entries.add(e);
      }
    }
    return String.join(File.pathSeparator, entries);
  }

  private static Path codeSource(Class<?> c) {
    try {
      var source = c.getProtectionDomain().getCodeSource();
      return source == null ? null : Paths.get(source.getLocation().toURI());
    } catch (URISyntaxException | RuntimeException e) {
      return null;
    }
  }

  private static String tail(String text) {
    String[] lines = text.strip().split("\n");
    int from = Math.max(0, lines.length - 3);
    return lines.length == 0 || text.isBlank() ? "(no output; the JVM aborted)"
        : String.join(" | ", java.util.Arrays.copyOfRange(lines, from, lines.length));
  }

  /** The child's side: a bfloat16 round trip; aborts the process on an engine without bf16. */
  public static void main(String[] args) {
    try (NDManager m = NDManager.newBaseManager(Engines.ENGINE_NAME)) {
      NDArray half = m.zeros(new Shape(2)).add(1f).toType(DataType.BFLOAT16, false);
      float[] back = half.toType(DataType.FLOAT32, false).toFloatArray();
      if (half.getDataType() != DataType.BFLOAT16 || back.length != 2 || back[0] != 1f) {
        System.out.println("perl-bf16-probe: the round trip gave " + half.getDataType() + " "
            + java.util.Arrays.toString(back));
        System.exit(3);
      }
    }
    System.out.println(OK_LINE);
    System.exit(0);
  }
}
