package io.perlspark.common;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Derives independent seeds from (run seed, step, sample id, copy, index) and so on.
 *
 * <p>Every random choice in PeRL-Spark draws from a seed made here, never from a shared stream, so
 * that the result of a Spark task does not depend on which executor ran it, on the partitioning, or
 * on whether it is a retry; and so that a resumed run continues exactly.
 */
public final class Seeds {
  private Seeds() {}

  /** SplitMix64 finaliser: a bijective, well-mixed 64-bit hash. */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** 64-bit FNV-1a of a string, then mixed; stable across JVMs (unlike String.hashCode in spirit). */
  public static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= (b & 0xff);
      h *= 0x100000001b3L;
    }
    return mix(h);
  }

  /** Combines a seed with further components, order-sensitively. */
  public static long derive(long seed, long... parts) {
    long h = mix(seed ^ 0x9e3779b97f4a7c15L);
    for (long p : parts) {
      h = mix(h + 0x9e3779b97f4a7c15L + mix(p));
    }
    return h;
  }

  /** Seed for one (run seed, step, sample id, copy, index) tuple. */
  public static long derive(long seed, long step, String sampleId, long copy, long index) {
    return derive(seed, step, hash(sampleId), copy, index);
  }

  /** A fresh generator for one (run seed, step, sample id, copy, index) tuple. */
  public static SplittableRandom rng(long seed, long step, String sampleId, long copy, long index) {
    return new SplittableRandom(derive(seed, step, sampleId, copy, index));
  }
}
