package io.serval.server.fuzz;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Replays generated cases: prints each one in full, writes its body to a temporary file and sends it
 * to a fresh server, printing what came back. For a finding in a test or soak report ({@code seed=S case=I
 * (family/...)}):
 *
 * <pre>
 * cd server &amp;&amp; mvn -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) io.serval.server.fuzz.FuzzReplay S family I [I...]
 * </pre>
 *
 * where {@code family} is the prefix of the case's category ({@code json}, {@code binary}, {@code headers},
 * {@code grpc-stub}, {@code grpc-raw}), or {@code any} for a case of the soak's mixed stream.
 */
public final class FuzzReplay {
  private FuzzReplay() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: FuzzReplay SEED FAMILY|any INDEX [INDEX...]");
      System.exit(2);
    }
    long seed = Long.parseLong(args[0]);
    String family = args[1];
    FuzzGenerator generator = new FuzzGenerator(seed);
    try (FuzzServer server = FuzzServer.start()) {
      FuzzClient client = new FuzzClient(server);
      for (int i = 2; i < args.length; i++) {
        int index = Integer.parseInt(args[i]);
        FuzzCase c = family.equals("any") ? generator.generate(index) : generator.generate(index, family);
        Path body = Files.createTempFile("fuzz-case-" + seed + "-" + family + "-" + index + "-", ".bin");
        Files.write(body, c.body);
        System.out.println(c.describe(4000));
        System.out.println("body written to " + body.toAbsolutePath());
        FuzzClient.Outcome outcome = client.send(c);
        System.out.println("=> " + outcome.status + ": " + outcome.message);
        System.out.println("=> " + (outcome.violation == null ? "no violation" : "VIOLATION: " + outcome.violation));
      }
      client.close();
    }
  }
}
