package io.serval.engine.arm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Counting physical cores from sample sysfs and cpuinfo contents of x86-64 and ARM machines. */
class PhysicalCoresTest {
  private static final String X86_CPUINFO_TWO_SOCKETS =
      cpuinfoProcessor(0, 0, 0) + cpuinfoProcessor(1, 0, 1) + cpuinfoProcessor(2, 1, 0) + cpuinfoProcessor(3, 1, 1)
          + cpuinfoProcessor(4, 0, 0) + cpuinfoProcessor(5, 0, 1) + cpuinfoProcessor(6, 1, 0)
          + cpuinfoProcessor(7, 1, 1);
  private static final String ARM_CPUINFO =
      "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\n"
          + "CPU part\t: 0xd08\n\nprocessor\t: 1\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\n"
          + "processor\t: 2\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\nprocessor\t: 3\nBogoMIPS\t: 108.00\n"
          + "CPU part\t: 0xd08\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n";

  @Test
  void countsHyperThreadedX86CoresOnceFromTheirSiblingLists() {
    List<String> siblings = List.of("0,4\n", "1,5\n", "2,6\n", "3,7\n", "0,4\n", "1,5\n", "2,6\n", "3,7\n");

    assertThat(PhysicalCores.count(siblings, "", 8)).isEqualTo(4);
  }

  @Test
  void readsSiblingListsWrittenAsRanges() {
    assertThat(PhysicalCores.count(List.of("0-1", "0-1", "2-3", "2-3"), "", 4)).isEqualTo(2);
  }

  @Test
  void countsEveryArmCoreWhoseSiblingListIsItself() {
    assertThat(PhysicalCores.count(List.of("0", "1", "2", "3"), ARM_CPUINFO, 4)).isEqualTo(4);
  }

  @Test
  void fallsBackToCoreIdsPerSocketInCpuinfo() {
    assertThat(PhysicalCores.count(List.of(), X86_CPUINFO_TWO_SOCKETS, 8)).isEqualTo(4);
  }

  @Test
  void fallsBackToAvailableProcessorsWhenCpuinfoNamesNoCores() {
    assertThat(PhysicalCores.count(List.of(), ARM_CPUINFO, 3)).isEqualTo(3);
    assertThat(PhysicalCores.count(List.of(), "", 6)).isEqualTo(6);
  }

  @Test
  void neverCountsMoreCoresThanTheProcessMayUse() {
    assertThat(PhysicalCores.count(List.of("0", "1", "2", "3"), "", 2)).isEqualTo(2);
    assertThat(PhysicalCores.count(List.of(), X86_CPUINFO_TWO_SOCKETS, 3)).isEqualTo(3);
  }

  @Test
  void findsAtLeastOneCoreOnThisMachine() {
    assertThat(PhysicalCores.onThisMachine()).isBetween(1, Runtime.getRuntime().availableProcessors());
  }

  private static String cpuinfoProcessor(int processor, int physicalId, int coreId) {
    return "processor\t: " + processor + "\nvendor_id\t: GenuineIntel\nphysical id\t: " + physicalId
        + "\nsiblings\t: 4\ncore id\t\t: " + coreId + "\ncpu cores\t: 2\n\n";
  }
}
