package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot reload in {@code poll} mode, as a user does it: version folders appear (copied under another name and renamed
 * into place) and disappear under continuous load, a corrupt model file arrives and is fixed, a copy is still being
 * written. The model is the affine test model with its constant set to the version number (y = 2x + v), so every
 * answer proves which version computed it.
 */
class HotReloadTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "swap";
  private static final String PIPELINE = "swap-chain";
  /** Rescans after events, and a version folder settled after 50 ms unchanged: quick, for the test's 50 swaps. */
  private static final String[] POLL = {"--model_control_mode=poll", "--repository.settle_ms=50",
      "--repository.poll_seconds=1"};

  @TempDir Path repo;

  /** Version {@code version} of the model: written under a name that is not a number, then renamed into place. */
  private void appear(long version) throws IOException {
    Path model = repo.resolve(MODEL);
    Path incoming = Files.createDirectories(model.resolve(".incoming-" + version));
    Files.write(incoming.resolve("model.onnx"), TestRepositories.affineWithOffset(version));
    Files.move(incoming, model.resolve(Long.toString(version)), StandardCopyOption.ATOMIC_MOVE);
  }

  private void remove(long version) throws IOException {
    try (Stream<Path> files = Files.walk(repo.resolve(MODEL).resolve(Long.toString(version)))) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }

  private void modelAndPipeline() throws IOException {
    Files.createDirectories(repo.resolve(MODEL));
    Files.writeString(repo.resolve(MODEL).resolve("config.yaml"), "max_batch_size: 8\ndynamic_batching: {}\n");
    appear(1);
    Files.createDirectories(repo.resolve(PIPELINE));
    Files.writeString(repo.resolve(PIPELINE).resolve("pipeline.yaml"), """
        inputs: [{name: x, datatype: FP32, dims: [-1, 4]}]
        outputs: [{name: y, from: model.y}]
        nodes:
          - {name: model, op: infer, inputs: {x: x}, params: {model: swap}}
        """);
  }

  /** An infer request of one row [a, a + 1, a + 2, a + 3]. */
  private static String request(int a) {
    ObjectNode body = MAPPER.createObjectNode();
    ObjectNode input = body.putArray("inputs").addObject().put("name", "x").put("datatype", "FP32");
    input.putArray("shape").add(1).add(4);
    ArrayNode data = input.putArray("data");
    for (int k = 0; k < 4; k++) {
      data.add(a + k);
    }
    return body.toString();
  }

  /** The constant the answer to {@link #request(int)} was computed with: y - 2x, the same for every element. */
  private static double offset(int a, JsonNode answer) {
    JsonNode y = answer.get("outputs").get(0).get("data");
    double offset = y.get(0).doubleValue() - 2 * a;
    for (int k = 1; k < 4; k++) {
      assertThat(y.get(k).doubleValue() - 2 * (a + k)).as("element " + k + " of " + answer).isEqualTo(offset);
    }
    return offset;
  }

  private static String servedVersion(BlockingWebClient http) throws IOException {
    AggregatedHttpResponse metadata = http.get("/v2/models/" + MODEL);
    return metadata.status() == HttpStatus.OK
        ? MAPPER.readTree(metadata.contentUtf8()).get("versions").get(0).asText() : "";
  }

  private static void awaitServed(BlockingWebClient http, long version) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!servedVersion(http).equals(Long.toString(version))) {
      assertThat(System.nanoTime()).as("version " + version + " serving within 30 s").isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  @Test
  void fiftySwapsUnderLoadFailNoRequestAndEachAnswerComesFromTheVersionItNames() throws Exception {
    modelAndPipeline();
    int swaps = 50;
    try (RunningServer server = RunningServer.start(repo, POLL)) {
      BlockingWebClient http = WebClient.builder(server.httpUri()).responseTimeout(Duration.ofSeconds(30)).build()
          .blocking();
      AtomicBoolean swapping = new AtomicBoolean(true);
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      AtomicInteger answered = new AtomicInteger();
      AtomicInteger throughPipeline = new AtomicInteger();
      ExecutorService clients = Executors.newFixedThreadPool(4);
      List<Future<?>> running = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        boolean pipeline = c % 2 == 1;
        Random random = new Random(c);
        running.add(clients.submit(() -> {
          double latest = 0;
          while (swapping.get()) {
            int a = random.nextInt(1000);
            String path = "/v2/models/" + (pipeline ? PIPELINE : MODEL) + "/infer";
            AggregatedHttpResponse response = http.prepare().post(path).content(MediaType.JSON, request(a))
                .execute();
            if (response.status() != HttpStatus.OK) {
              failures.add(path + ": " + response.status() + " " + response.contentUtf8());
              continue;
            }
            try {
              JsonNode answer = MAPPER.readTree(response.contentUtf8());
              double offset = offset(a, answer);
              if (!pipeline && offset != Double.parseDouble(answer.get("model_version").asText())) {
                failures.add("version " + answer.get("model_version") + " answered with constant " + offset);
              }
              // A caller's next request never reaches an older version than its last one did.
              if (offset < latest || offset != Math.rint(offset) || offset < 1 || offset > swaps + 1) {
                failures.add(path + ": constant " + offset + " after " + latest);
              }
              latest = offset;
              answered.incrementAndGet();
              if (pipeline) {
                throughPipeline.incrementAndGet();
              }
            } catch (IOException | AssertionError e) {
              failures.add(path + ": " + e.getMessage());
            }
          }
          return null;
        }));
      }
      for (long version = 2; version <= swaps + 1; version++) {
        appear(version);
        awaitServed(http, version);
        remove(version - 1);
      }
      swapping.set(false);
      for (Future<?> client : running) {
        client.get(30, TimeUnit.SECONDS);
      }
      clients.shutdown();

      System.out.printf("hot reload: %d swaps, %d requests answered (%d through the pipeline), %d failed%n", swaps,
          answered.get(), throughPipeline.get(), failures.size());
      assertThat(failures).isEmpty();
      assertThat(throughPipeline.get()).isGreaterThan(swaps);
      assertThat(answered.get() - throughPipeline.get()).isGreaterThan(swaps);
      assertThat(servedVersion(http)).isEqualTo(Long.toString(swaps + 1));
    }
  }

  private static JsonNode index(BlockingWebClient http) throws IOException {
    return MAPPER.readTree(http.prepare().post("/v2/repository/index").content(MediaType.JSON, "{}").execute()
        .contentUtf8());
  }

  private static String indexEntry(BlockingWebClient http, String version) throws IOException {
    for (JsonNode entry : index(http)) {
      if (entry.get("name").asText().equals(MODEL) && entry.path("version").asText().equals(version)) {
        return entry.get("state").asText() + ": " + entry.path("reason").asText();
      }
    }
    return "";
  }

  private static double infer(BlockingWebClient http, int a) throws IOException {
    AggregatedHttpResponse response = http.prepare().post("/v2/models/" + MODEL + "/infer")
        .content(MediaType.JSON, request(a)).execute();
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(HttpStatus.OK);
    return offset(a, MAPPER.readTree(response.contentUtf8()));
  }

  private static void await(String what, java.util.concurrent.Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.call()) {
      assertThat(System.nanoTime()).as(what + " within 30 s").isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  @Test
  void aCorruptModelFileLeavesTheServingVersionServingUntilAGoodCopyArrives() throws Exception {
    modelAndPipeline();
    try (RunningServer server = RunningServer.start(repo, POLL)) {
      BlockingWebClient http = WebClient.of(server.httpUri()).blocking();
      Path model = repo.resolve(MODEL);
      Path incoming = Files.createDirectories(model.resolve(".incoming"));
      Files.writeString(incoming.resolve("model.onnx"), "not an ONNX model");
      Files.move(incoming, model.resolve("2"), StandardCopyOption.ATOMIC_MOVE);

      await("version 2's failure in the index", () -> indexEntry(http, "2").startsWith("UNAVAILABLE"));

      assertThat(indexEntry(http, "2")).contains("model.onnx");
      assertThat(indexEntry(http, "1")).isEqualTo(
          "READY: version 1 keeps serving while a newer version does not load");
      assertThat(infer(http, 5)).isEqualTo(1);
      assertThat(servedVersion(http)).isEqualTo("1");
      String metrics = WebClient.of(server.httpUri()).blocking().get("/metrics").contentUtf8();
      assertThat(metrics).contains("serval_model_load_seconds_count{model=\"swap\",outcome=\"failure\",version=\"2\"} 1");

      // Fixed in place: the folder's files change, settle, and load.
      Files.write(model.resolve("2").resolve("model.onnx"), TestRepositories.affineWithOffset(2));
      awaitServed(http, 2);

      assertThat(infer(http, 5)).isEqualTo(2);
      assertThat(indexEntry(http, "2")).isEqualTo("READY: ");
      await("version 1 retired", () -> indexEntry(http, "1").isEmpty());
    }
  }

  private static double rescans(BlockingWebClient http) {
    return http.get("/metrics").contentUtf8().lines()
        .filter(line -> line.startsWith("serval_repository_rescans_total "))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.indexOf(' ') + 1)))
        .findFirst().orElseThrow();
  }

  @Test
  void aVersionFolderStillChangingIsNotLoadedUntilItSettles() throws Exception {
    modelAndPipeline();
    // A folder counts once its files are unchanged for 2 s: far longer than the watcher takes to see a change.
    try (RunningServer server = RunningServer.start(repo, "--model_control_mode=poll",
        "--repository.settle_ms=2000", "--repository.poll_seconds=60")) {
      BlockingWebClient http = WebClient.of(server.httpUri()).blocking();
      byte[] bytes = TestRepositories.affineWithOffset(2);
      Path file = Files.createDirectories(repo.resolve(MODEL).resolve("2")).resolve("model.onnx");
      double before = rescans(http);

      Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));
      await("a rescan after the half file appeared", () -> rescans(http) > before);

      assertThat(indexEntry(http, "2")).isEmpty();
      assertThat(servedVersion(http)).isEqualTo("1");

      Files.write(file, bytes);
      awaitServed(http, 2);

      assertThat(infer(http, 3)).isEqualTo(2);
      // Never tried while incomplete: no failed load of version 2 was ever counted.
      assertThat(http.get("/metrics").contentUtf8()).doesNotContain("outcome=\"failure\",version=\"2\"")
          .contains("serval_model_load_seconds_count{model=\"swap\",outcome=\"success\",version=\"2\"} 1");
    }
  }

  @Test
  void withAReadyFileAVersionFolderCountsOnlyOnceTheFileIsThere() throws Exception {
    modelAndPipeline();
    Files.writeString(repo.resolve(MODEL).resolve("1").resolve("READY"), "");
    try (RunningServer server = RunningServer.start(repo, "--model_control_mode=poll", "--repository.settle_ms=0",
        "--repository.poll_seconds=1", "--repository.ready_file=READY")) {
      BlockingWebClient http = WebClient.of(server.httpUri()).blocking();
      Path version = Files.createDirectories(repo.resolve(MODEL).resolve("2"));
      Files.write(version.resolve("model.onnx"), java.util.Arrays.copyOf(TestRepositories.affineWithOffset(2), 40));
      double before = rescans(http);
      await("two rescans with the half file and no READY", () -> rescans(http) >= before + 2);
      assertThat(indexEntry(http, "2")).isEmpty();
      assertThat(infer(http, 1)).isEqualTo(1);

      Files.write(version.resolve("model.onnx"), TestRepositories.affineWithOffset(2));
      Files.writeString(version.resolve("READY"), "");
      awaitServed(http, 2);

      assertThat(infer(http, 1)).isEqualTo(2);
    }
  }

  @Test
  void aReloadOfTheSameVersionNumberAnswersFromTheNewFilesNotTheCacheAndKeepsOneSetOfMeters() throws Exception {
    Files.createDirectories(repo.resolve(MODEL));
    Files.writeString(repo.resolve(MODEL).resolve("config.yaml"), "max_batch_size: 8\nresponse_cache: {enable: true}\n");
    appear(1);
    try (RunningServer server = RunningServer.start(repo, POLL)) {
      BlockingWebClient http = WebClient.of(server.httpUri()).blocking();
      assertThat(infer(http, 7)).isEqualTo(1);
      assertThat(infer(http, 7)).isEqualTo(1);

      // Version 1's file replaced by one computing 2x + 5, by a rename over it.
      Path replacement = repo.resolve(MODEL).resolve("1").resolve(".model.onnx.new");
      Files.write(replacement, TestRepositories.affineWithOffset(5));
      Files.move(replacement, repo.resolve(MODEL).resolve("1").resolve("model.onnx"),
          StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      await("the reload of version 1", () -> infer(http, 8) == 5);

      assertThat(infer(http, 7)).as("the same request as before the reload, cached then").isEqualTo(5);
      String metrics = http.get("/metrics").contentUtf8();
      // One series per model version, counting on across the reload.
      assertThat(metrics.lines().filter(line -> line.startsWith(
          "serval_inference_requests_total{model=\"swap\",outcome=\"success\",reason=\"none\",version=\"1\"}")))
          .hasSize(1);
      // The reload ran at the lowest priority; the instances it started serve at the normal one.
      assertThat(Thread.getAllStackTraces().keySet()).filteredOn(thread -> thread.getName().startsWith("serval-swap-"))
          .isNotEmpty().allSatisfy(thread -> assertThat(thread.getPriority()).isEqualTo(Thread.NORM_PRIORITY));
    }
  }

  @Test
  void theServerIsReadyOnlyWhenEveryRequiredModelIs() throws Exception {
    modelAndPipeline();
    Path needed = Files.createDirectories(repo.resolve("needed").resolve("1"));
    Files.writeString(needed.resolve("model.onnx"), "not a model yet");
    Path optional = Files.createDirectories(repo.resolve("optional").resolve("1"));
    Files.writeString(optional.resolve("model.onnx"), "never a model");
    Files.writeString(repo.resolve("optional").resolve("config.yaml"), "required: false\n");
    try (RunningServer server = RunningServer.start(repo, POLL)) {
      BlockingWebClient http = WebClient.of(server.httpUri()).blocking();
      assertThat(http.get("/v2/health/ready").status()).isEqualTo(HttpStatus.BAD_REQUEST);

      Files.write(needed.resolve("model.onnx"), TestRepositories.affineWithOffset(1));

      await("ready once the required model loads", () -> http.get("/v2/health/ready").status() == HttpStatus.OK);
      assertThat(indexEntry(http, "1")).isEqualTo("READY: ");
      assertThat(index(http).toString()).contains("\"name\":\"optional\",\"version\":\"1\",\"state\":\"UNAVAILABLE\"");
    }
  }

  @Test
  void anEditedPipelineIsCompiledAgainAndABrokenEditKeepsTheLastGoodOneServing() throws Exception {
    modelAndPipeline();
    try (RunningServer server = RunningServer.start(repo, POLL)) {
      BlockingWebClient http = WebClient.of(server.httpUri()).blocking();
      Path yaml = repo.resolve(PIPELINE).resolve("pipeline.yaml");
      Files.writeString(yaml, """
          inputs: [{name: x, datatype: FP32, dims: [-1, 4]}]
          outputs: [{name: y, from: model.y}, {name: best, from: top.index}]
          nodes:
            - {name: model, op: infer, inputs: {x: x}, params: {model: swap}}
            - {name: top, op: argmax, inputs: {x: model.y}}
          """);
      await("the new output in the pipeline's metadata",
          () -> http.get("/v2/models/" + PIPELINE).contentUtf8().contains("\"best\""));

      Files.writeString(yaml, "inputs: [{name: x, datatype: FP32, dims: [-1, 4]}]\nnodes: []\n");
      await("the refusal in the index", () -> index(http).toString().contains("its previous form keeps serving"));

      AggregatedHttpResponse answer = http.prepare().post("/v2/models/" + PIPELINE + "/infer")
          .content(MediaType.JSON, request(1)).execute();
      assertThat(answer.status()).isEqualTo(HttpStatus.OK);
      assertThat(answer.contentUtf8()).contains("\"name\":\"best\"");
    }
  }
}
