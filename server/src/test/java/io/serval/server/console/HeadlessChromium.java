package io.serval.server.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A real browser for tests: Debian's {@code chromium} in headless mode, driven over the Chrome DevTools Protocol
 * (a WebSocket to one page, with {@link HttpClient}'s WebSocket client). It navigates, evaluates JavaScript in the
 * page, waits for a condition and takes PNG screenshots; {@link #close()} ends the browser's processes and deletes
 * its profile folder.
 */
final class HeadlessChromium implements AutoCloseable {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

  private final Process process;
  private final Path profile;
  /** The DevTools connection to the page, set once connected. */
  private volatile WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
  private final List<Consumer<JsonNode>> eventListeners = new CopyOnWriteArrayList<>();
  /** The page's console messages and uncaught exceptions, for the message of a failed wait. */
  private final List<String> console = new CopyOnWriteArrayList<>();

  private HeadlessChromium(Process process, Path profile) {
    this.process = process;
    this.profile = profile;
  }

  /** Starts a headless Chromium with a fresh profile, its page {@code width} x {@code height} CSS pixels. */
  static HeadlessChromium start(int width, int height) throws IOException, InterruptedException {
    Path executable = executable();
    Path profile = Files.createTempDirectory("serval-chromium-");
    Path log = profile.resolve("chromium.log");
    Process process = new ProcessBuilder(executable.toString(),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        "--mute-audio",
        "--window-size=" + width + "," + height,
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        "--user-data-dir=" + profile.resolve("profile"),
        "about:blank")
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    try {
      int port = devToolsPort(process, profile.resolve("profile").resolve("DevToolsActivePort"), log);
      String pageSocket = pageWebSocket(port);
      HeadlessChromium started = new HeadlessChromium(process, profile);
      started.socket = HttpClient.newHttpClient().newWebSocketBuilder()
          .connectTimeout(START_TIMEOUT)
          .buildAsync(URI.create(pageSocket), started.listener())
          .get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      started.send("Page.enable", Map.of());
      started.send("Runtime.enable", Map.of());
      started.send("Emulation.setDeviceMetricsOverride",
          Map.of("width", width, "height", height, "deviceScaleFactor", 1, "mobile", false));
      return started;
    } catch (IOException | InterruptedException | RuntimeException e) {
      kill(process);
      deleteTree(profile);
      throw e;
    } catch (ExecutionException | TimeoutException e) {
      kill(process);
      deleteTree(profile);
      throw new IOException("cannot connect to Chromium's DevTools WebSocket", e);
    }
  }

  /** The {@code chromium} program: {@code $CHROMIUM}, or {@code chromium} on the PATH. */
  private static Path executable() {
    String configured = System.getenv("CHROMIUM");
    if (configured != null && !configured.isBlank()) {
      if (!Files.isExecutable(Path.of(configured))) {
        throw new IllegalStateException("CHROMIUM is " + configured + ", which is not a program: install the Debian"
            + " package 'chromium' (apt-get install chromium), or point CHROMIUM at a Chromium or Chrome program");
      }
      return Path.of(configured);
    }
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String dir : path.split(File.pathSeparator)) {
      for (String name : new String[] {"chromium", "chromium-browser"}) {
        Path candidate = Path.of(dir).resolve(name);
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    throw new IllegalStateException("the browser tests need Chromium, which is not installed: install the Debian"
        + " package 'chromium' (apt-get install chromium), or set CHROMIUM to a Chromium or Chrome program");
  }

  /** The port Chromium chose for DevTools, which it writes into its profile once it listens. */
  private static int devToolsPort(Process process, Path portFile, Path log)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("Chromium exited with status " + process.exitValue() + ": " + tail(log));
      }
      if (Files.exists(portFile)) {
        List<String> lines = Files.readAllLines(portFile, StandardCharsets.UTF_8);
        if (!lines.isEmpty() && !lines.get(0).isBlank()) {
          return Integer.parseInt(lines.get(0).trim());
        }
      }
      Thread.sleep(50);
    }
    throw new IOException("Chromium did not open its DevTools port within " + START_TIMEOUT.toSeconds() + " s: "
        + tail(log));
  }

  /** The DevTools WebSocket address of the browser's page (the tab it opened on about:blank). */
  private static String pageWebSocket(int port) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (true) {
      HttpResponse<String> list = http.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
          HttpResponse.BodyHandlers.ofString());
      for (JsonNode target : MAPPER.readTree(list.body())) {
        if (target.path("type").asText().equals("page") && target.hasNonNull("webSocketDebuggerUrl")) {
          return target.get("webSocketDebuggerUrl").asText();
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("Chromium lists no page to drive: " + list.body());
      }
      Thread.sleep(50);
    }
  }

  private WebSocket.Listener listener() {
    return new WebSocket.Listener() {
      private final StringBuilder text = new StringBuilder();

      @Override
      public void onOpen(WebSocket webSocket) {
        webSocket.request(1);
      }

      @Override
      public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        text.append(data);
        if (last) {
          String message = text.toString();
          text.setLength(0);
          received(message);
        }
        webSocket.request(1);
        return null;
      }

      @Override
      public void onError(WebSocket webSocket, Throwable error) {
        pending.values().forEach(call -> call.completeExceptionally(error));
      }
    };
  }

  private void received(String message) {
    JsonNode json;
    try {
      json = MAPPER.readTree(message);
    } catch (IOException e) {
      return;
    }
    if (json.has("id")) {
      CompletableFuture<JsonNode> call = pending.remove(json.get("id").asInt());
      if (call != null) {
        if (json.has("error")) {
          call.completeExceptionally(new IllegalStateException("DevTools error: " + json.get("error")));
        } else {
          call.complete(json.path("result"));
        }
      }
      return;
    }
    String method = json.path("method").asText();
    JsonNode params = json.path("params");
    if (method.equals("Runtime.consoleAPICalled")) {
      StringBuilder line = new StringBuilder("console." + params.path("type").asText() + ":");
      for (JsonNode arg : params.path("args")) {
        line.append(' ').append(arg.has("value") ? arg.get("value").asText() : arg.path("description").asText());
      }
      console.add(line.toString());
    } else if (method.equals("Runtime.exceptionThrown")) {
      JsonNode details = params.path("exceptionDetails");
      console.add("uncaught: " + details.path("exception").path("description").asText(details.path("text").asText()));
    }
    for (Consumer<JsonNode> listener : eventListeners) {
      listener.accept(json);
    }
  }

  /** Sends one DevTools command and waits for its result. */
  JsonNode send(String method, Map<String, ?> params) {
    int id = ids.incrementAndGet();
    ObjectNode command = MAPPER.createObjectNode();
    command.put("id", id);
    command.put("method", method);
    command.set("params", MAPPER.valueToTree(params));
    CompletableFuture<JsonNode> result = new CompletableFuture<>();
    pending.put(id, result);
    WebSocket connection = socket;
    try {
      synchronized (connection) {
        connection.sendText(MAPPER.writeValueAsString(command), true).get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }
      return result.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (IOException | ExecutionException | TimeoutException e) {
      throw new IllegalStateException("DevTools command " + method + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during " + method, e);
    } finally {
      pending.remove(id);
    }
  }

  /** Opens {@code url} in the page and waits until it has loaded (its {@code load} event). */
  void navigate(String url) {
    console.clear();
    CompletableFuture<JsonNode> loaded = new CompletableFuture<>();
    Consumer<JsonNode> onLoad = event -> {
      if (event.path("method").asText().equals("Page.loadEventFired")) {
        loaded.complete(event);
      }
    };
    eventListeners.add(onLoad);
    try {
      JsonNode result = send("Page.navigate", Map.of("url", url));
      if (result.hasNonNull("errorText") && !result.get("errorText").asText().isEmpty()) {
        throw new IllegalStateException("cannot open " + url + ": " + result.get("errorText").asText());
      }
      loaded.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(url + " did not finish loading", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while loading " + url, e);
    } finally {
      eventListeners.remove(onLoad);
    }
  }

  /**
   * Evaluates a JavaScript expression in the page and returns its value as JSON (a promise is awaited;
   * {@code undefined} is a missing node). A thrown exception is an {@link IllegalStateException}.
   */
  JsonNode evaluate(String expression) {
    JsonNode result = send("Runtime.evaluate", Map.of(
        "expression", expression, "returnByValue", true, "awaitPromise", true, "userGesture", true));
    if (result.has("exceptionDetails")) {
      JsonNode details = result.get("exceptionDetails");
      throw new IllegalStateException("JavaScript failed: " + details.path("exception").path("description")
          .asText(details.path("text").asText()) + "\nin: " + expression);
    }
    JsonNode value = result.path("result").path("value");
    return value.isMissingNode() ? MissingNode.getInstance() : value;
  }

  /**
   * Evaluates {@code condition} every 100 ms until it is true; after {@code timeout}, fails with the value of
   * {@code describe} (an expression telling what the page shows instead) and the page's console.
   */
  void waitFor(String condition, Duration timeout, String describe) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String lastError = "";
    while (true) {
      try {
        if (evaluate("Boolean(" + condition + ")").asBoolean()) {
          return;
        }
      } catch (IllegalStateException e) {
        lastError = e.getMessage();
      }
      if (System.nanoTime() > deadline) {
        String shown;
        try {
          shown = evaluate(describe).toString();
        } catch (IllegalStateException e) {
          shown = e.getMessage();
        }
        throw new AssertionError("not true within " + timeout.toMillis() + " ms: " + condition
            + "\nthe page shows: " + shown + (lastError.isEmpty() ? "" : "\nlast error: " + lastError)
            + "\nconsole: " + console);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + condition, e);
      }
    }
  }

  /**
   * Clicks the element {@code selector} finds the way a user does: scrolled into view, a mouse press and release
   * at its centre (so it must be visible and not covered).
   */
  void click(String selector) {
    JsonNode box = evaluate("(() => { const e = document.querySelector(" + quote(selector) + ");"
        + " if (!e) return null; e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
        + " return {x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height}; })()");
    if (!box.isObject()) {
      throw new AssertionError("nothing to click: no element " + selector);
    }
    if (box.get("w").asDouble() == 0 || box.get("h").asDouble() == 0) {
      throw new AssertionError("cannot click " + selector + ": it is not shown");
    }
    Map<String, Object> at = Map.of("x", box.get("x").asDouble(), "y", box.get("y").asDouble());
    send("Input.dispatchMouseEvent", with(at, "type", "mouseMoved"));
    send("Input.dispatchMouseEvent", with(at, "type", "mousePressed", "button", "left", "clickCount", 1));
    send("Input.dispatchMouseEvent", with(at, "type", "mouseReleased", "button", "left", "clickCount", 1));
  }

  /** Empties the input {@code selector} finds, focuses it and types {@code text} into it (input events fire). */
  void type(String selector, String text) {
    JsonNode found = evaluate("(() => { const e = document.querySelector(" + quote(selector) + ");"
        + " if (!e) return false; e.focus(); e.value = ''; return document.activeElement === e; })()");
    if (!found.asBoolean()) {
      throw new AssertionError("cannot type into " + selector + ": no such element, or it cannot take the focus");
    }
    send("Input.insertText", Map.of("text", text));
  }

  /** Presses and releases a key on the focused element: "Enter" or "Tab". */
  void press(String key) {
    int code = switch (key) {
      case "Enter" -> 13;
      case "Tab" -> 9;
      default -> throw new IllegalArgumentException("key " + key + " (expected: Enter or Tab)");
    };
    Map<String, Object> keyOf = Map.of("key", key, "code", key, "windowsVirtualKeyCode", code,
        "nativeVirtualKeyCode", code);
    send("Input.dispatchKeyEvent", key.equals("Enter") ? with(keyOf, "type", "keyDown", "text", "\r")
        : with(keyOf, "type", "rawKeyDown"));
    send("Input.dispatchKeyEvent", with(keyOf, "type", "keyUp"));
  }

  /** A JavaScript string literal of {@code text}. */
  static String quote(String text) {
    try {
      return MAPPER.writeValueAsString(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, Object> with(Map<String, Object> base, Object... more) {
    Map<String, Object> all = new LinkedHashMap<>(base);
    for (int i = 0; i < more.length; i += 2) {
      all.put((String) more[i], more[i + 1]);
    }
    return all;
  }

  /** The page's console messages and uncaught exceptions since the last navigation. */
  List<String> console() {
    return new ArrayList<>(console);
  }

  /** Saves what the page shows (its viewport) as a PNG file, creating the folder. */
  Path screenshot(Path png) throws IOException {
    JsonNode shot = send("Page.captureScreenshot", Map.of("format", "png"));
    Path parent = png.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    return Files.write(png, Base64.getDecoder().decode(shot.path("data").asText()));
  }

  @Override
  public void close() {
    WebSocket connection = socket;
    try {
      connection.sendClose(WebSocket.NORMAL_CLOSURE, "").get(2, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      connection.abort();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      kill(process);
      deleteTree(profile);
    }
  }

  /** Ends the browser and every process it started (renderers, GPU and network services, zygotes). */
  private static void kill(Process process) {
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    process.destroy();
    tree.forEach(ProcessHandle::destroy);
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }

  private static void deleteTree(Path root) {
    for (int attempt = 0; attempt < 5 && Files.exists(root); attempt++) {
      try (Stream<Path> files = Files.walk(root)) {
        for (Path file : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
          Files.deleteIfExists(file);
        }
      } catch (IOException | UncheckedIOException e) {
        // A process that has not quite exited may still be writing into the profile: try again.
        try {
          Thread.sleep(100);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private static String tail(Path log) {
    try {
      String text = Files.readString(log, StandardCharsets.UTF_8);
      return text.length() > 2000 ? text.substring(text.length() - 2000) : text;
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
