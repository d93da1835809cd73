package io.perlspark.model.hub;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes one {@code .safetensors} file byte for byte as Hugging Face's {@code safetensors} library
 * ({@code serialize_to_file}) does, streaming each tensor from an {@link NDArray} in chunks.
 *
 * <p>The library's layout, which readers other than ours may rely on: tensors sorted by dtype
 * alignment descending (I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL), then by name (bytes);
 * {@code __metadata__} first in the header; compact JSON; the header padded with spaces to a
 * multiple of 8 bytes so every tensor starts aligned.
 *
 * <p>Because the header comes first, all tensors are declared up front ({@link Spec}); each is then
 * written at its own offset with positional writes, in any order. Data goes NDArray → direct
 * buffer → file one chunk at a time: no tensor is copied onto the Java heap, and only a chunk
 * (at most {@value #CHUNK_ELEMENTS} elements) is converted at once. The file is written under a
 * {@code .partial} name and moved into place by {@link #close()} only when every declared tensor
 * was written.
 */
public final class SafeTensorsWriter implements AutoCloseable {
  /** Elements per conversion step: bounds the temporary native memory per write. */
  static final int CHUNK_ELEMENTS = 1 << 22;

  /** safetensors dtypes this writer produces, in the library's increasing alignment order. */
  public enum Dtype {
    BOOL(1, DataType.BOOLEAN),
    U8(1, DataType.UINT8),
    I8(1, DataType.INT8),
    I16(2, DataType.INT16),
    F16(2, DataType.FLOAT16),
    BF16(2, DataType.FLOAT32), // stored rounded from float32 by this class
    I32(4, DataType.INT32),
    F32(4, DataType.FLOAT32),
    F64(8, DataType.FLOAT64),
    I64(8, DataType.INT64);

    final int bytes;
    /** The DJL type a chunk is converted to before its bytes are written. */
    final DataType djl;

    Dtype(int bytes, DataType djl) {
      this.bytes = bytes;
      this.djl = djl;
    }

    public int bytes() {
      return bytes;
    }

    boolean floating() {
      return this == F16 || this == BF16 || this == F32 || this == F64;
    }

    /** The stored type of an NDArray that keeps its own type (integers, bool) or a default. */
    public static Dtype of(DataType type, Dtype floatDtype) {
      return switch (type) {
        case FLOAT16, FLOAT32, FLOAT64 -> floatDtype;
        case INT64 -> I64;
        case INT32 -> I32;
        case INT16 -> I16;
        case INT8 -> I8;
        case UINT8 -> U8;
        case BOOLEAN -> BOOL;
        default -> throw new IllegalArgumentException("no safetensors dtype for DJL type " + type);
      };
    }
  }

  /** A tensor to be written: its name, stored dtype and shape. */
  public record Spec(String name, Dtype dtype, long[] shape) {
    public Spec {
      shape = shape.clone();
      for (long d : shape) {
        if (d < 0) {
          throw new IllegalArgumentException("tensor " + name + " has a negative dimension");
        }
      }
    }

    public static Spec of(String name, Dtype dtype, Shape shape) {
      return new Spec(name, dtype, shape.getShape());
    }

    public long elementCount() {
      long n = 1;
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
      }
      return n;
    }

    public long byteSize() {
      return Math.multiplyExact(elementCount(), dtype.bytes);
    }
  }

  /** The library's order: dtype alignment descending, then name by UTF-8 bytes (Rust's str order). */
  static final Comparator<Spec> FILE_ORDER = Comparator
      .comparing((Spec s) -> s.dtype(), Comparator.reverseOrder())
      .thenComparing(Spec::name, SafeTensorsWriter::compareUtf8);

  private final Path file;
  private final Path partial;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, Spec> specs;
  private final Map<String, Long> offsets;
  private final Set<String> written = new HashSet<>();
  private ByteBuffer bf16Chunk;
  private boolean closed;

  private SafeTensorsWriter(Path file, Path partial, FileChannel channel, long dataStart,
      Map<String, Spec> specs, Map<String, Long> offsets) {
    this.file = file;
    this.partial = partial;
    this.channel = channel;
    this.dataStart = dataStart;
    this.specs = specs;
    this.offsets = offsets;
  }

  /**
   * Starts {@code file} with the header for {@code tensors}; {@code metadata} becomes
   * {@code __metadata__} (null: none; transformers writes {"format": "pt"}).
   */
  public static SafeTensorsWriter create(Path file, List<Spec> tensors, Map<String, String> metadata)
      throws IOException {
    List<Spec> sorted = new ArrayList<>(tensors);
    Set<String> names = new HashSet<>();
    for (Spec s : sorted) {
      if (s.name() == null || s.name().isEmpty() || s.name().equals("__metadata__")) {
        throw new IllegalArgumentException("invalid tensor name: " + s.name());
      }
      if (!names.add(s.name())) {
        throw new IllegalArgumentException("tensor " + s.name() + " is declared twice");
      }
    }
    sorted.sort(FILE_ORDER);
    byte[] header = header(sorted, metadata);
    Map<String, Spec> specs = new LinkedHashMap<>();
    Map<String, Long> offsets = new LinkedHashMap<>();
    long offset = 0;
    for (Spec s : sorted) {
      specs.put(s.name(), s);
      offsets.put(s.name(), offset);
      offset += s.byteSize();
    }
    Path partial = file.resolveSibling(file.getFileName() + ".partial");
    FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
    try {
      ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
      head.putLong(header.length).put(header).flip();
      writeFully(ch, head, 0);
      // the size is fixed by the header; tensors may then be written in any order
      long total = 8 + header.length + offset;
      if (offset > 0) {
        writeFully(ch, ByteBuffer.allocate(1), total - 1);
      }
    } catch (IOException | RuntimeException e) {
      ch.close();
      Files.deleteIfExists(partial);
      throw e;
    }
    return new SafeTensorsWriter(file, partial, ch, 8 + header.length, specs, offsets);
  }

  /**
   * Writes a whole file from arrays: floating arrays are stored as {@code floatDtype}, integer and
   * boolean arrays keep their type. Metadata {"format": "pt"} as transformers writes it.
   */
  public static void write(Path file, Map<String, NDArray> tensors, Dtype floatDtype)
      throws IOException {
    List<Spec> specs = new ArrayList<>();
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      specs.add(Spec.of(e.getKey(), Dtype.of(e.getValue().getDataType(), floatDtype),
          e.getValue().getShape()));
    }
    try (SafeTensorsWriter w = create(file, specs, Map.of("format", "pt"))) {
      for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
        w.write(e.getKey(), e.getValue());
      }
    }
  }

  /** Tensors in file order, as declared. */
  public List<Spec> specs() {
    return List.copyOf(specs.values());
  }

  /** Bytes of tensor data (the file is 8 + header + this). */
  public long dataSize() {
    long n = 0;
    for (Spec s : specs.values()) {
      n += s.byteSize();
    }
    return n;
  }

  /**
   * Writes the declared tensor {@code name} from {@code array} (same shape; a floating array for a
   * floating dtype, an array of exactly the dtype's type otherwise), converting chunk by chunk.
   */
  public void write(String name, NDArray array) throws IOException {
    if (closed) {
      throw new IllegalStateException("writer for " + file + " is closed");
    }
    Spec spec = specs.get(name);
    if (spec == null) {
      throw new IllegalArgumentException(file + ": tensor " + name + " was not declared");
    }
    if (written.contains(name)) {
      throw new IllegalArgumentException(file + ": tensor " + name + " was already written");
    }
    if (!Arrays.equals(array.getShape().getShape(), spec.shape())) {
      throw new IllegalArgumentException(file + ": tensor " + name + " was declared with shape "
          + Arrays.toString(spec.shape()) + " but the array has " + array.getShape());
    }
    DataType t = array.getDataType();
    boolean ok = spec.dtype().floating() ? t.isFloating() : t == spec.dtype().djl;
    if (!ok) {
      throw new IllegalArgumentException(file + ": tensor " + name + " is declared "
          + spec.dtype() + " but the array is " + t);
    }
    long n = spec.elementCount();
    long pos = dataStart + offsets.get(name);
    if (n > 0) {
      try (NDArray flat = array.reshape(-1)) {
        for (long start = 0; start < n; start += CHUNK_ELEMENTS) {
          long end = Math.min(n, start + CHUNK_ELEMENTS);
          try (NDArray slice = flat.get(new NDIndex("{}:{}", start, end))) {
            pos += writeChunk(slice, spec.dtype(), pos);
          }
        }
      }
    }
    written.add(name);
  }

  /** Converts one 1-D slice and writes its bytes at {@code pos}; returns the bytes written. */
  private long writeChunk(NDArray slice, Dtype dtype, long pos) throws IOException {
    NDArray cpu = slice.getDevice().equals(Device.cpu()) ? slice : slice.toDevice(Device.cpu(), true);
    NDArray typed = cpu.toType(dtype.djl, false);
    try {
      // a contiguous CPU tensor: the buffer is its own memory, no copy
      ByteBuffer bytes = typed.toByteBuffer(true).order(ByteOrder.LITTLE_ENDIAN);
      if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
        throw new IOException("safetensors is little-endian; this machine is not");
      }
      if (dtype == Dtype.BF16) {
        bytes = toBf16(bytes.asFloatBuffer());
      }
      long len = bytes.remaining();
      writeFully(channel, bytes, pos);
      return len;
    } finally {
      if (typed != cpu) {
        typed.close();
      }
      if (cpu != slice) {
        cpu.close();
      }
    }
  }

  private ByteBuffer toBf16(FloatBuffer src) {
    if (bf16Chunk == null) {
      bf16Chunk = ByteBuffer.allocateDirect(CHUNK_ELEMENTS * 2).order(ByteOrder.LITTLE_ENDIAN);
    }
    bf16Chunk.clear();
    int n = src.remaining();
    for (int i = 0; i < n; i++) {
      bf16Chunk.putShort(bf16Bits(src.get(i)));
    }
    bf16Chunk.flip();
    return bf16Chunk;
  }

  /**
   * float32 to bfloat16 bits as torch rounds ({@code c10::round_to_nearest_even}): round to
   * nearest, ties to even; every NaN becomes the quiet NaN 0x7FC0; overflow goes to infinity.
   */
  public static short bf16Bits(float f) {
    if (Float.isNaN(f)) {
      return (short) 0x7FC0;
    }
    int u = Float.floatToRawIntBits(f);
    int bias = ((u >>> 16) & 1) + 0x7FFF;
    return (short) ((u + bias) >>> 16);
  }

  /** Finishes the file: moved to its name when every tensor was written, deleted otherwise. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      channel.close();
    } catch (IOException e) {
      Files.deleteIfExists(partial);
      throw e;
    }
    if (written.size() != specs.size()) {
      Files.deleteIfExists(partial);
      List<String> missing = new ArrayList<>();
      for (String n : specs.keySet()) {
        if (!written.contains(n)) {
          missing.add(n);
        }
      }
      throw new IOException(file + " not written: " + missing.size() + " declared tensor(s) "
          + "never written, e.g. " + missing.subList(0, Math.min(5, missing.size())));
    }
    Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** The header bytes: serde_json's compact form of the library's map, padded with spaces to 8. */
  static byte[] header(List<Spec> sortedSpecs, Map<String, String> metadata) {
    StringBuilder sb = new StringBuilder("{");
    boolean first = true;
    if (metadata != null) {
      sb.append("\"__metadata__\":{");
      boolean f = true;
      for (Map.Entry<String, String> m : metadata.entrySet()) {
        if (!f) {
          sb.append(',');
        }
        f = false;
        jsonString(sb, m.getKey()).append(':');
        jsonString(sb, m.getValue());
      }
      sb.append('}');
      first = false;
    }
    long offset = 0;
    for (Spec s : sortedSpecs) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      jsonString(sb, s.name()).append(":{\"dtype\":\"").append(s.dtype().name())
          .append("\",\"shape\":[");
      for (int i = 0; i < s.shape().length; i++) {
        sb.append(i == 0 ? "" : ",").append(s.shape()[i]);
      }
      long end = offset + s.byteSize();
      sb.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
      offset = end;
    }
    sb.append('}');
    byte[] raw = sb.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (raw.length + 7) / 8 * 8;
    byte[] out = Arrays.copyOf(raw, padded);
    Arrays.fill(out, raw.length, padded, (byte) ' ');
    return out;
  }

  /** A JSON string as serde_json writes it: only quote, backslash and controls escaped. */
  private static StringBuilder jsonString(StringBuilder sb, String s) {
    return jsonString(sb, s, false);
  }

  /**
   * A JSON string with quote, backslash and controls escaped, as serde_json writes it; with {@code
   * asciiOnly} also every non-ASCII UTF-16 unit as a lowercase backslash-u escape, as Python's json
   * does by default (ensure_ascii).
   */
  static StringBuilder jsonString(StringBuilder sb, String s, boolean asciiOnly) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || (asciiOnly && c > 0x7E)) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"');
  }

  /** Rust's {@code str} order: by UTF-8 bytes, which is code point order. */
  static int compareUtf8(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      pos += ch.write(buf, pos);
    }
  }
}
