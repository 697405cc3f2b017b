package io.serval.engine.arm;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Counts the machine's physical cores, which the JDK does not say ({@link Runtime#availableProcessors} counts
 * hardware threads). Linux names each core's hardware threads in {@code
 * /sys/devices/system/cpu/cpuN/topology/thread_siblings_list}, the same list for every thread of one core; where
 * that is missing, {@code /proc/cpuinfo} gives a {@code physical id} and {@code core id} per processor (on x86; ARM
 * kernels leave them out); where both are missing, every available processor counts as a core.
 */
final class PhysicalCores {
  private static final Path CPUS = Path.of("/sys/devices/system/cpu");
  private static final Path CPUINFO = Path.of("/proc/cpuinfo");

  private PhysicalCores() {}

  /** The physical cores this process may use: read from this machine, at most its available processors. */
  static int onThisMachine() {
    List<String> siblings = new ArrayList<>();
    try (DirectoryStream<Path> cpus = Files.newDirectoryStream(CPUS, "cpu[0-9]*")) {
      for (Path cpu : cpus) {
        Path list = cpu.resolve("topology").resolve("thread_siblings_list");
        if (Files.isReadable(list)) {
          siblings.add(Files.readString(list));
        }
      }
    } catch (IOException | SecurityException e) {
      siblings.clear();
    }
    String cpuinfo;
    try {
      cpuinfo = Files.readString(CPUINFO);
    } catch (IOException | SecurityException e) {
      cpuinfo = "";
    }
    return count(siblings, cpuinfo, Runtime.getRuntime().availableProcessors());
  }

  /**
   * The number of physical cores, from the {@code thread_siblings_list} of each CPU (one entry per CPU, any
   * order), else from the text of {@code /proc/cpuinfo}, else {@code availableProcessors}; never more than {@code
   * availableProcessors}, which counts what a CPU affinity mask or container quota leaves this process.
   */
  static int count(List<String> threadSiblingsLists, String cpuinfo, int availableProcessors) {
    Set<String> cores = new HashSet<>();
    for (String siblings : threadSiblingsLists) {
      cores.add(siblings.trim());
    }
    if (cores.isEmpty()) {
      cores = cpuinfoCores(cpuinfo);
    }
    return cores.isEmpty() ? availableProcessors : Math.min(cores.size(), availableProcessors);
  }

  /** The distinct "physical id:core id" pairs of {@code /proc/cpuinfo}; empty when it names no core ids. */
  private static Set<String> cpuinfoCores(String cpuinfo) {
    Set<String> cores = new HashSet<>();
    String physicalId = "0";
    for (String line : cpuinfo.split("\n", -1)) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String key = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      if (key.equals("processor")) {
        physicalId = "0";
      } else if (key.equals("physical id")) {
        physicalId = value;
      } else if (key.equals("core id")) {
        cores.add(physicalId + ":" + value);
      }
    }
    return cores;
  }
}
