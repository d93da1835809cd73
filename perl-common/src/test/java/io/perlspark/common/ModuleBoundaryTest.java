package io.perlspark.common;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** perl-common is pure Java: neither Spark nor DJL may reach its classpath (docs/ARCHITECTURE.md "Modules"). */
class ModuleBoundaryTest {
  @Test
  void sparkIsNotOnTheClasspath() {
    assertThrows(ClassNotFoundException.class, () -> Class.forName("org.apache.spark.SparkConf"));
  }

  @Test
  void djlIsNotOnTheClasspath() {
    assertThrows(ClassNotFoundException.class, () -> Class.forName("ai.djl.ndarray.NDArray"));
  }
}
