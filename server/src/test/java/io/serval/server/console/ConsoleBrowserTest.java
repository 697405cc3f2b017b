package io.serval.server.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.WebClientBuilder;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.auth.AuthToken;
import io.serval.server.ServalServer;
import io.serval.server.config.ServerConfig;
import io.serval.server.security.TokenHash;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web console at {@code /console}, in a real headless browser (Debian's {@code chromium}) against a real
 * Serval: the affine model as versions 1 and 2, a pipeline over it and route {@value #ROUTE} splitting traffic
 * between the two versions. The page is opened on the management listener with a {@code manage} token; the test
 * reads what it shows, changes the route's weights through it and checks them through the server's own API, and
 * keeps a screenshot ({@code target/console/console.png}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleBrowserTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "affine";
  private static final String SPARE = "spare";
  private static final String PIPELINE = "scores";
  private static final String ROUTE = "ab";
  private static final String MANAGE_TOKEN = "console-manage-token-for-tests";
  private static final String INFER_TOKEN = "console-infer-token-for-tests";
  private static final String INFER_BODY =
      "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}";
  /** The test artefact: what the console looks like, relative to the module (Maven runs tests there). */
  private static final Path SCREENSHOT = Path.of("target", "console", "console.png");
  private static final Duration WAIT = Duration.ofSeconds(20);
  /** What the page shows when a wait fails: the status line and the text of the tables. */
  private static final String DESCRIBE = "({status: document.getElementById('status').textContent,"
      + " main: document.getElementById('main').innerText.slice(0, 3000)})";

  private ServalServer server;
  private HeadlessChromium browser;
  private int httpPort;
  private int managementPort;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    browser = HeadlessChromium.start(1280, 800);
    server = startServer(dir.resolve("poll"), "poll");
    httpPort = server.ports().get(0);
    managementPort = server.ports().get(3);
  }

  @AfterAll
  void stop() {
    if (browser != null) {
      browser.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void showsModelsAndLiveRatesAndChangesTheWeightsOfARoute() throws Exception {
    openConsole(managementPort);
    useToken(MANAGE_TOKEN);

    browser.waitFor(versionState(MODEL, "1") + " === 'READY' && " + versionState(MODEL, "2") + " === 'READY'",
        WAIT, DESCRIBE);
    browser.waitFor(cell("tr[data-pipeline='" + PIPELINE + "'] [data-field=state]") + " === 'READY'", WAIT, DESCRIBE);
    browser.waitFor(weightShown("a") + " === '90' && " + weightShown("b") + " === '10'", WAIT, DESCRIBE);
    assertThat(browser.evaluate(cell("tr[data-route='ab'][data-variant='a'] [data-field=target]")).asText())
        .contains("affine").contains("version 1");
    assertThat(browser.evaluate(weightInput("a") + ".value").asText()).isEqualTo("90");
    assertThat(browser.evaluate("document.getElementById('control-mode').textContent").asText()).contains("poll");
    assertThat(browser.evaluate("[...document.querySelectorAll('button[data-action=load],"
        + " button[data-action=unload]')].every(b => b.offsetParent === null)").asBoolean())
        .as("no load/unload buttons in poll mode").isTrue();
    assertThat(browser.evaluate("document.getElementById('explicit-note').innerText").asText())
        .contains("model_control_mode explicit");
    assertThat(browser.evaluate("sessionStorage.getItem('serval.console.token')").asText()).isEqualTo(MANAGE_TOKEN);
    assertThat(browser.evaluate("localStorage.length").asInt()).as("the token is not kept beyond the tab").isZero();

    // Live rates: requests into the model and through the route (kept up until the screenshot).
    AtomicBoolean sending = new AtomicBoolean(true);
    AtomicInteger answered = new AtomicInteger();
    Thread load = new Thread(() -> {
      BlockingWebClient infer = client(httpPort, INFER_TOKEN);
      for (int i = 0; sending.get(); i++) {
        AggregatedHttpResponse response = infer.prepare().post("/v2/models/" + (i % 2 == 0 ? MODEL : ROUTE)
            + "/infer").content(MediaType.JSON, INFER_BODY).execute();
        if (response.status().equals(HttpStatus.OK)) {
          answered.incrementAndGet();
        }
      }
    }, "console-test-load");
    load.start();
    try {
      browser.waitFor("[...document.querySelectorAll(\"tr[data-model='affine'][data-version] [data-field=rps]\")]"
          + ".some(c => Number(c.dataset.value) > 0)", WAIT, DESCRIBE);
      browser.waitFor(variantRate("a") + " > 0", WAIT, DESCRIBE);
      assertThat(browser.evaluate("[...document.querySelectorAll(\"tr[data-model='affine'][data-version]"
          + " [data-field=latency]\")].some(c => Number(c.dataset.value) > 0)").asBoolean())
          .as("a mean latency is shown with the rate").isTrue();

      // Weights the server refuses: the page shows its message, and nothing changes.
      AggregatedHttpResponse refused = client(managementPort, MANAGE_TOKEN).prepare()
          .put("/v1/routes/" + ROUTE + "/weights").content(MediaType.JSON, "{\"a\": -1, \"b\": 10}").execute();
      assertThat(refused.status().isClientError()).as(refused.contentUtf8()).isTrue();
      String refusal = MAPPER.readTree(refused.contentUtf8()).path("error").asText();
      assertThat(refusal).isNotEmpty();
      browser.type(weightSelector("a"), "-1");
      browser.click("button[data-action='apply-weights'][data-route='ab']");
      browser.waitFor("document.getElementById('status').dataset.kind === 'error' && document.getElementById"
          + "('status').textContent.includes(" + HeadlessChromium.quote(refusal) + ")", WAIT, DESCRIBE);
      assertThat(browser.evaluate("document.getElementById('status').textContent").asText())
          .startsWith("Route ab: HTTP " + refused.status().code() + ": ");
      assertThat(weights()).containsEntry("a", 90).containsEntry("b", 10);

      // Weights it takes: 50/50, typed and applied in the page, and seen through the server's API.
      browser.type(weightSelector("a"), "50");
      browser.type(weightSelector("b"), "50");
      browser.click("button[data-action='apply-weights'][data-route='ab']");
      browser.waitFor("document.getElementById('status').dataset.kind === 'ok'", WAIT, DESCRIBE);
      assertThat(browser.evaluate("document.getElementById('status').textContent").asText())
          .isEqualTo("Route ab: weights applied (a=50, b=50).");
      assertThat(weights()).containsEntry("a", 50).containsEntry("b", 50);
      browser.waitFor(weightShown("a") + " === '50' && " + weightShown("b") + " === '50'", WAIT, DESCRIBE);
      // Both variants take traffic now, and the inputs keep the server's weights across refreshes.
      browser.waitFor(variantRate("a") + " > 0 && " + variantRate("b") + " > 0", WAIT, DESCRIBE);
      assertThat(browser.evaluate(weightInput("a") + ".value").asText()).isEqualTo("50");
      assertThat(browser.evaluate(weightInput("b") + ".value").asText()).isEqualTo("50");

      browser.screenshot(SCREENSHOT);
    } finally {
      sending.set(false);
      load.join(10_000);
    }
    assertThat(answered.get()).isPositive();
    byte[] png = Files.readAllBytes(SCREENSHOT);
    assertThat(png).startsWith(0x89, 'P', 'N', 'G');
    assertThat(png.length).as("a screenshot of the filled page").isGreaterThan(8 * 1024);
    assertThat(browser.console()).as("the page's console").noneMatch(line -> line.startsWith("uncaught"));
  }

  @Test
  void showsTheServersMessageForAMissingOrRefusedToken() throws Exception {
    openConsole(managementPort);
    String missing = stateError(null, HttpStatus.UNAUTHORIZED);
    browser.waitFor(statusShows(401, missing), WAIT, DESCRIBE);

    useToken("not-a-token");
    browser.waitFor(statusShows(401, stateError("not-a-token", HttpStatus.UNAUTHORIZED)), WAIT, DESCRIBE);
    assertThat(browser.evaluate("document.querySelectorAll('tbody.model, section.route').length").asInt())
        .as("nothing of the server is shown").isZero();
    assertThat(browser.evaluate("document.getElementById('data').hidden").asBoolean()).isTrue();

    useToken(INFER_TOKEN);
    browser.waitFor(statusShows(403, stateError(INFER_TOKEN, HttpStatus.FORBIDDEN)), WAIT, DESCRIBE);

    useToken(MANAGE_TOKEN);
    browser.waitFor(versionState(MODEL, "1") + " === 'READY'", WAIT, DESCRIBE);
    assertThat(browser.evaluate("document.getElementById('status').textContent").asText())
        .as("the refusal is gone once the state is read").isEmpty();
  }

  @Test
  void loadsAndUnloadsModelsInExplicitMode(@TempDir Path dir) throws Exception {
    try (ServalServer explicit = startServer(dir.resolve("explicit"), "explicit")) {
      openConsole(explicit.ports().get(3));
      useToken(MANAGE_TOKEN);
      browser.waitFor(versionState(SPARE, "1") + " === 'READY'", WAIT, DESCRIBE);
      assertThat(browser.evaluate("document.getElementById('control-mode').textContent").asText())
          .contains("explicit");

      unloadSpare(explicit);

      // A load the server refuses: the page shows its message.
      Path onnx = dir.resolve("explicit").resolve("models").resolve(SPARE).resolve("1").resolve("model.onnx");
      byte[] model = Files.readAllBytes(onnx);
      Files.writeString(onnx, "not a model");
      browser.click("button[data-action='load'][data-model='spare']");
      browser.waitFor("document.getElementById('status').dataset.kind === 'error'", WAIT, DESCRIBE);
      assertThat(browser.evaluate("document.getElementById('status').textContent").asText())
          .startsWith("Model spare: HTTP 503: model 'spare' failed to load");
      assertThat(readyVersions(explicit, SPARE)).isEmpty();

      Files.write(onnx, model);
      browser.click("button[data-action='load'][data-model='spare']");
      browser.waitFor("document.getElementById('status').textContent === 'Model spare loaded.'", WAIT, DESCRIBE);
      browser.waitFor(versionState(SPARE, "1") + " === 'READY'", WAIT, DESCRIBE);
      assertThat(readyVersions(explicit, SPARE)).containsExactly("1");

      unloadSpare(explicit);
    }
  }

  private void unloadSpare(ServalServer on) throws IOException {
    browser.click("button[data-action='unload'][data-model='spare']");
    browser.waitFor("document.getElementById('status').textContent === 'Model spare unloaded.'", WAIT, DESCRIBE);
    browser.waitFor("!document.querySelector(\"tr[data-model='spare'][data-version] [data-state=READY]\")", WAIT,
        DESCRIBE);
    assertThat(readyVersions(on, SPARE)).isEmpty();
  }

  // ---- the page ----------------------------------------------------------------------------------------------

  /** Opens the console on {@code port} in a tab without a token (the tab's sessionStorage is emptied first). */
  private void openConsole(int port) {
    String url = "http://127.0.0.1:" + port + "/console";
    browser.navigate(url);
    browser.evaluate("sessionStorage.clear()");
    browser.navigate(url);
    assertThat(browser.evaluate("document.title").asText()).isEqualTo("Serval console");
  }

  /** Types {@code token} into the token field and presses Enter, as a user does. */
  private void useToken(String token) {
    browser.type("#token", token);
    browser.press("Enter");
  }

  private static String cell(String selector) {
    return "document.querySelector(" + HeadlessChromium.quote(selector) + ")?.textContent";
  }

  private static String versionState(String model, String version) {
    return cell("tr[data-model='" + model + "'][data-version='" + version + "'] [data-field=state]");
  }

  private static String weightSelector(String variant) {
    return "input[data-route='" + ROUTE + "'][data-variant='" + variant + "']";
  }

  private static String weightInput(String variant) {
    return "document.querySelector(" + HeadlessChromium.quote(weightSelector(variant)) + ")";
  }

  /** The live weight of a variant as the page shows it (without its share in per cent). */
  private static String weightShown(String variant) {
    return "document.querySelector(" + HeadlessChromium.quote("tr[data-route='" + ROUTE + "'][data-variant='"
        + variant + "'] [data-field=weight]") + ")?.dataset.value";
  }

  /** The request rate the page shows for a variant of route {@value #ROUTE}. */
  private static String variantRate(String variant) {
    return "Number(document.querySelector(" + HeadlessChromium.quote("tr[data-route='" + ROUTE + "'][data-variant='"
        + variant + "'] [data-field=rps]") + ")?.dataset.value)";
  }

  private static String statusShows(int status, String message) {
    return "(() => { const s = document.getElementById('status'); return s.dataset.kind === 'error'"
        + " && s.textContent.startsWith(" + HeadlessChromium.quote("HTTP " + status + ": " + message) + "); })()";
  }

  // ---- the server --------------------------------------------------------------------------------------------

  /**
   * A server on free ports in model control mode {@code mode}: the affine model (y = 2x + 1, FP32 [batch, 4]) as
   * versions 1 and 2, a copy of it as {@value #SPARE}, pipeline {@value #PIPELINE} over it and route
   * {@value #ROUTE} sending 90% to version 1 and 10% to version 2; tokens with the manage and the infer scope.
   */
  private static ServalServer startServer(Path dir, String mode) throws Exception {
    Path repository = Files.createDirectories(dir.resolve("models"));
    affine(repository, MODEL, "max_batch_size: 4\nversion_policy: {all: true}\n", 1, 2);
    affine(repository, SPARE, "max_batch_size: 4\nrequired: false\n", 1);
    Files.createDirectories(repository.resolve(PIPELINE));
    Files.writeString(repository.resolve(PIPELINE).resolve("pipeline.yaml"), """
        inputs: [{name: x, datatype: FP32, dims: [-1, 4]}]
        outputs: [{name: probabilities, from: soft.y}]
        nodes:
          - {name: model, op: infer, inputs: {x: x}, params: {model: affine}}
          - {name: soft, op: softmax, inputs: {x: model.y}}
        """);
    Files.createDirectories(repository.resolve(ROUTE));
    Files.writeString(repository.resolve(ROUTE).resolve("route.yaml"), """
        variants:
          - {name: a, model: affine, version: 1, weight: 90}
          - {name: b, model: affine, version: 2, weight: 10}
        """);
    Path config = Files.writeString(dir.resolve("serval.yaml"), "auth:\n  tokens:\n"
        + token("ops", MANAGE_TOKEN, "manage")
        + token("ci", INFER_TOKEN, "infer"));
    List<String> args = new ArrayList<>(List.of(
        "--config=" + config,
        "--model_repositories=" + repository,
        "--model_control_mode=" + mode,
        "--http_port=0",
        "--grpc_port=0",
        "--metrics_port=0",
        "--management.port=0",
        "--warmup.requests=0",
        "--cpu_threads=1",
        "--shutdown_timeout_seconds=1"));
    return ServalServer.start(ServerConfig.load(Map.of(), args));
  }

  private static String token(String name, String token, String scope) {
    return "    - name: " + name + "\n      sha256: " + TokenHash.sha256Hex(token) + "\n      scopes: [" + scope
        + "]\n";
  }

  private static void affine(Path repository, String name, String config, int... versions) throws IOException {
    Path model = Files.createDirectories(repository.resolve(name));
    Files.writeString(model.resolve("config.yaml"), config);
    for (int version : versions) {
      Path folder = Files.createDirectories(model.resolve(Integer.toString(version)));
      try (InputStream onnx = ConsoleBrowserTest.class.getResourceAsStream("/models/affine/affine.onnx")) {
        Files.copy(Objects.requireNonNull(onnx, "affine.onnx on the test class path"),
            folder.resolve("model.onnx"), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  private static BlockingWebClient client(int port, String token) {
    WebClientBuilder builder = WebClient.builder("http://127.0.0.1:" + port);
    if (token != null) {
      builder.auth(AuthToken.ofOAuth2(token));
    }
    return builder.build().blocking();
  }

  /** The console state as the server gives it to a manage token. */
  private JsonNode state(int port) throws IOException {
    AggregatedHttpResponse response = client(port, MANAGE_TOKEN).get("/v1/console/state");
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(HttpStatus.OK);
    return MAPPER.readTree(response.contentUtf8());
  }

  /** The weights of route {@value #ROUTE}, by variant, from the server's own state. */
  private Map<String, Integer> weights() throws IOException {
    Map<String, Integer> weights = new HashMap<>();
    for (JsonNode route : state(managementPort).path("routes")) {
      if (route.path("name").asText().equals(ROUTE)) {
        route.path("variants").forEach(v -> weights.put(v.path("name").asText(), v.path("weight").asInt()));
      }
    }
    return weights;
  }

  private List<String> readyVersions(ServalServer on, String model) throws IOException {
    List<String> ready = new ArrayList<>();
    for (JsonNode m : state(on.ports().get(3)).path("models")) {
      if (m.path("name").asText().equals(model)) {
        m.path("versions").forEach(v -> {
          if (v.path("state").asText().equals("READY")) {
            ready.add(v.path("version").asText());
          }
        });
      }
    }
    return ready;
  }

  /** The error message the server answers {@code GET /v1/console/state} with, for {@code token} (or none). */
  private String stateError(String token, HttpStatus expected) throws IOException {
    AggregatedHttpResponse response = client(managementPort, token).get("/v1/console/state");
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(expected);
    return MAPPER.readTree(response.contentUtf8()).path("error").asText();
  }
}
