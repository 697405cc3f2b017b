package io.serval.server.config;

import io.serval.engine.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One entry of a model's {@code instance_group}, as Triton's: {@code count} instances (default 1) of {@code kind}
 * ({@code cpu} or {@code gpu}; Triton's {@code KIND_CPU} and {@code KIND_GPU} too; absent: the engine's own
 * device), and for GPUs on each of {@code gpus} (default [0]). {@code instances: N} is short for one group of N
 * instances on the engine's own device.
 *
 * @param count instances of the group (on each of its GPUs)
 * @param kind the processor, or null for the engine's own
 * @param gpus the GPUs, for a GPU group
 */
public record InstanceGroup(int count, Device.@Nullable Kind kind, List<Integer> gpus) {
  private static final Set<String> FIELDS = Set.of("count", "kind", "gpus", "name");

  /** {@code count} instances on the engine's own device. */
  public static InstanceGroup onEngineDevice(int count) {
    return new InstanceGroup(count, null, List.of());
  }

  /** The groups of {@code instance_group}, or of {@code instances}; errors go to {@code root}. */
  static List<InstanceGroup> read(ConfigReader root) {
    if (root.has("instance_group") && root.has("instances")) {
      root.error("instance_group", "is set with instances (expected: one of them; instances: N is a group of N on"
          + " the engine's own device)");
    }
    if (!root.has("instance_group")) {
      return List.of(onEngineDevice((int) root.integer("instances", 1, 1, 256)));
    }
    List<InstanceGroup> groups = new ArrayList<>();
    for (ConfigReader item : root.list("instance_group")) {
      item.rejectUnknownFields(FIELDS);
      int count = (int) item.integer("count", 1, 1, 256);
      String kindName = item.string("kind", null);
      Device.Kind kind = null;
      if (kindName != null) {
        String plain = kindName.toUpperCase(Locale.ROOT).replaceFirst("^KIND_", "");
        if (plain.equals("CPU") || plain.equals("GPU")) {
          kind = Device.Kind.valueOf(plain);
        } else {
          item.error("kind", "'" + kindName + "' (expected: cpu or gpu, or Triton's KIND_CPU or KIND_GPU)");
        }
      }
      List<Integer> gpus = new ArrayList<>();
      long[] listed = item.integers("gpus", 0);
      if (listed != null) {
        if (kind != Device.Kind.GPU) {
          item.error("gpus", "is set for a group that is not kind gpu");
        }
        for (long gpu : listed) {
          gpus.add((int) Math.min(gpu, Integer.MAX_VALUE));
        }
      }
      groups.add(new InstanceGroup(count, kind, List.copyOf(gpus)));
    }
    if (groups.isEmpty()) {
      root.error("instance_group", "is empty (expected: at least one group, e.g. [{count: 1, kind: cpu}])");
      return List.of(onEngineDevice(1));
    }
    return List.copyOf(groups);
  }

  /** The device of each instance, in order; groups name their kind once the configuration is completed. */
  public static List<Device> devices(List<InstanceGroup> groups) {
    List<Device> devices = new ArrayList<>();
    for (InstanceGroup group : groups) {
      List<Integer> gpus = group.gpus().isEmpty() ? List.of(0) : group.gpus();
      for (int i = 0; i < group.count(); i++) {
        if (group.kind() == Device.Kind.GPU) {
          gpus.forEach(gpu -> devices.add(Device.gpu(gpu)));
        } else {
          devices.add(Device.cpu());
        }
      }
    }
    return devices;
  }
}
