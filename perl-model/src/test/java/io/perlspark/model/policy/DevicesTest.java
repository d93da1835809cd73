package io.perlspark.model.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class DevicesTest {
  @Test
  void cpuAndAutoWithoutGpus() {
    assertEquals(Device.cpu(), Devices.choose("cpu", OptionalInt.empty(), 0));
    assertEquals(Device.cpu(), Devices.choose("CPU", OptionalInt.of(1), 4));
    assertEquals(Device.cpu(), Devices.choose("auto", OptionalInt.of(0), 0));
    assertEquals(Device.cpu(), Devices.choose("auto", OptionalInt.empty(), 2));
    // The real engine here has CPU natives only.
    assertEquals(Device.cpu(), Devices.choose("auto", OptionalInt.of(0)));
  }

  @Test
  void gpuChoices() {
    assertEquals(Device.gpu(1), Devices.choose("auto", OptionalInt.of(1), 2));
    assertEquals(Device.gpu(1), Devices.choose("gpu", OptionalInt.of(1), 2));
    assertEquals(Device.gpu(0), Devices.choose("gpu", OptionalInt.empty(), 2));
    assertEquals(Device.gpu(1), Devices.choose("gpu:1", OptionalInt.empty(), 2));
    assertEquals(Device.gpu(0), Devices.choose("cuda:0", OptionalInt.empty(), 1));
  }

  @Test
  void errorsNameTheProblem() {
    IllegalArgumentException none =
        assertThrows(
            IllegalArgumentException.class,
            () -> Devices.choose("gpu", OptionalInt.empty(), 0));
    assertTrue(none.getMessage().contains("sees none"), none.getMessage());
    IllegalArgumentException index =
        assertThrows(
            IllegalArgumentException.class,
            () -> Devices.choose("gpu:3", OptionalInt.empty(), 2));
    assertTrue(index.getMessage().contains("GPU 3 does not exist"), index.getMessage());
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class, () -> Devices.choose("tpu", OptionalInt.empty(), 0));
    assertTrue(unknown.getMessage().contains("cpu, gpu, gpu:N, auto"), unknown.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> Devices.choose("gpu:x", OptionalInt.empty(), 1));
  }
}
