package io.perlspark.model.hub;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code .safetensors} file, read by memory-mapping each tensor's bytes on demand.
 *
 * <p>Why not DJL's {@code NDList.decode}: it reads the whole file into one {@code byte[]} with int
 * offsets, so a shard over 2 GiB (real 7B checkpoints have ~4 GB shards) cannot be read, and the
 * weights would pass through the Java heap. Here only the JSON header is on the heap; tensor bytes
 * go from the page cache through a direct buffer into PyTorch-owned memory, chunk by chunk.
 *
 * <p>Format: 8 bytes little-endian header length, a UTF-8 JSON header {@code {name: {dtype, shape,
 * data_offsets: [begin, end]}, "__metadata__": {...}}}, then the data; offsets are relative to the
 * end of the header, tensors are little-endian and row-major.
 */
public final class SafeTensors implements AutoCloseable {
  /** Bytes converted per step when widening bf16/f16 (bounds the direct buffer in use). */
  private static final int CHUNK_ELEMENTS = 1 << 22;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;

  private SafeTensors(
      Path file, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
      Map<String, String> metadata) {
    this.file = file;
    this.channel = channel;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Where a tensor lies in the file and what it is. */
  public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {
    public long elementCount() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }

    public Shape djlShape() {
      return new Shape(shape);
    }
  }

  /** Opens a file and parses its header; the tensor data is read only when asked for. */
  public static SafeTensors open(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
    try {
      long size = ch.size();
      if (size < 8) {
        throw new IOException(file + ": not a safetensors file (" + size + " bytes)");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.getLong(0);
      if (headerLen <= 0 || headerLen > 100_000_000L || 8 + headerLen > size) {
        throw new IOException(file + ": not a safetensors file (header length " + headerLen
            + " in a file of " + size + " bytes)");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLen);
      readFully(ch, header, 8);
      JsonNode root = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
      long dataStart = 8 + headerLen;
      long dataLen = size - dataStart;
      Map<String, TensorInfo> tensors = new LinkedHashMap<>();
      Map<String, String> metadata = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals("__metadata__")) {
          e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
          continue;
        }
        JsonNode t = e.getValue();
        JsonNode shapeNode = t.get("shape");
        JsonNode offsets = t.get("data_offsets");
        if (t.get("dtype") == null || shapeNode == null || offsets == null || offsets.size() != 2) {
          throw new IOException(file + ": tensor " + e.getKey() + " has no dtype, shape or data_offsets");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = shapeNode.get(i).asLong();
        }
        TensorInfo info = new TensorInfo(
            e.getKey(), t.get("dtype").asText(), shape, offsets.get(0).asLong(), offsets.get(1).asLong());
        long expected = info.elementCount() * bytesPerElement(info.dtype(), file, info.name());
        if (info.begin() < 0 || info.end() > dataLen || info.end() - info.begin() != expected) {
          throw new IOException(file + ": tensor " + info.name() + " (" + info.dtype() + " "
              + java.util.Arrays.toString(shape) + ") has data_offsets [" + info.begin() + ", "
              + info.end() + "] that do not fit its size or the file");
        }
        tensors.put(info.name(), info);
      }
      return new SafeTensors(file, ch, dataStart, Collections.unmodifiableMap(tensors),
          Collections.unmodifiableMap(metadata));
    } catch (IOException | RuntimeException e) {
      ch.close();
      if (e instanceof com.fasterxml.jackson.core.JsonProcessingException) {
        throw new IOException(file + ": the safetensors header is not valid JSON: " + e.getMessage(), e);
      }
      throw e;
    }
  }

  public Path file() {
    return file;
  }

  /** Tensors in header order. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  public TensorInfo info(String name) {
    TensorInfo info = tensors.get(name);
    if (info == null) {
      throw new IllegalArgumentException(file + " has no tensor named " + name);
    }
    return info;
  }

  /**
   * The tensor in PyTorch-owned memory of {@code manager}, converted to {@code target}: floating
   * types (F32, F16, BF16) to a floating target, integer types (I64, I32, I16, I8, U8, BOOL) kept
   * or converted to the target's type.
   */
  public NDArray load(String name, NDManager manager, DataType target) throws IOException {
    TensorInfo info = info(name);
    Shape shape = info.djlShape();
    String dtype = info.dtype();
    long bytes = info.end() - info.begin();
    if (dtype.equals("BF16")) {
      return widenBf16(info, manager, shape, target);
    }
    DataType stored = djlType(dtype);
    if (bytes > Integer.MAX_VALUE) {
      throw new IOException(file + ": tensor " + name + " holds " + bytes
          + " bytes; one " + dtype + " tensor over 2 GiB is not supported");
    }
    MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin(), bytes);
    mapped.order(ByteOrder.LITTLE_ENDIAN);
    // create() over a direct buffer shares its memory; the copy moves it into PyTorch's allocator
    // so the tensor never depends on the mapping or on the GC (see Constants).
    try (NDArray view = manager.create(mapped, shape, stored)) {
      // A same-type toType() aliases the mapping (DJL's torchTo has no copy flag): clone instead.
      return stored == target ? view.duplicate() : view.toType(target, true);
    }
  }

  /** As {@link #load} into float32. */
  public NDArray loadFloat(String name, NDManager manager) throws IOException {
    return load(name, manager, DataType.FLOAT32);
  }

  /**
   * bfloat16 has no DJL type (its JNI maps none; shared/STACK.md): widen to float32 in chunks
   * (a bf16 value is the upper half of the float32 with the same bits), then convert.
   */
  private NDArray widenBf16(TensorInfo info, NDManager manager, Shape shape, DataType target)
      throws IOException {
    long n = info.elementCount();
    NDArray out = manager.zeros(new Shape(n), DataType.FLOAT32);
    try {
      ByteBuffer f32 = ByteBuffer.allocateDirect((int) Math.min(n, CHUNK_ELEMENTS) * 4)
          .order(ByteOrder.nativeOrder());
      for (long start = 0; start < n; start += CHUNK_ELEMENTS) {
        int count = (int) Math.min(CHUNK_ELEMENTS, n - start);
        MappedByteBuffer src = channel.map(
            FileChannel.MapMode.READ_ONLY, dataStart + info.begin() + start * 2, (long) count * 2);
        src.order(ByteOrder.LITTLE_ENDIAN);
        f32.clear();
        for (int i = 0; i < count; i++) {
          f32.putInt((src.getShort(i * 2) & 0xFFFF) << 16);
        }
        f32.flip();
        try (NDArray chunk = manager.create(f32, new Shape(count), DataType.FLOAT32);
            NDArray owned = chunk.toType(DataType.FLOAT32, true)) {
          out.set(new ai.djl.ndarray.index.NDIndex("{}:{}", start, start + count), owned);
        }
      }
      NDArray shaped = out.reshape(shape);
      if (target == DataType.FLOAT32) {
        return shaped;
      }
      try (shaped) {
        return shaped.toType(target, true);
      }
    } finally {
      out.close();
    }
  }

  private static long bytesPerElement(String dtype, Path file, String name) throws IOException {
    return switch (dtype) {
      case "F64", "I64", "U64" -> 8;
      case "F32", "I32", "U32" -> 4;
      case "F16", "BF16", "I16", "U16" -> 2;
      case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
      default -> throw new IOException(file + ": tensor " + name + " has unknown dtype " + dtype);
    };
  }

  private DataType djlType(String dtype) throws IOException {
    return switch (dtype) {
      case "F64" -> DataType.FLOAT64;
      case "F32" -> DataType.FLOAT32;
      case "F16" -> DataType.FLOAT16;
      case "I64" -> DataType.INT64;
      case "I32" -> DataType.INT32;
      case "I16" -> DataType.INT16;
      case "I8" -> DataType.INT8;
      case "U8" -> DataType.UINT8;
      case "BOOL" -> DataType.BOOLEAN;
      default -> throw new IOException(file + ": dtype " + dtype + " cannot be loaded");
    };
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
      pos += n;
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
