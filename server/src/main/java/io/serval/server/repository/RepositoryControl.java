package io.serval.server.repository;

import io.serval.core.InvalidInputException;
import io.serval.core.UnsupportedFeatureException;
import io.serval.server.config.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Who may change the repository after the start, by the model control mode: the {@link RepositoryWatcher} in
 * {@code poll} mode, the repository API's load and unload in {@code explicit} mode, nobody in {@code none} mode.
 * As in Triton, load and unload are refused in the other modes, so that an API call and the folders never fight
 * over what is served.
 *
 * <pre>{@code
 * RepositoryControl control = RepositoryControl.start("explicit", repository, roots, config.repository());
 * control.load("cls");
 * }</pre>
 */
public final class RepositoryControl implements AutoCloseable {
  private final String mode;
  private final ModelRepository repository;
  private final @Nullable RepositoryWatcher watcher;

  private RepositoryControl(String mode, ModelRepository repository, @Nullable RepositoryWatcher watcher) {
    this.mode = mode;
    this.repository = repository;
    this.watcher = watcher;
  }

  /** Takes control of {@code repository} in {@code mode} (one of {@link ServerConfig#CONTROL_MODES}). */
  public static RepositoryControl start(String mode, ModelRepository repository, List<Path> roots,
      ServerConfig.Repository settings) {
    if (!mode.equals("poll")) {
      return new RepositoryControl(mode, repository, null);
    }
    try {
      return new RepositoryControl(mode, repository,
          RepositoryWatcher.start(repository, roots, settings.pollSeconds(), settings.settleMillis()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot watch the model repositories", e);
    }
  }

  /** The model control mode. */
  public String mode() {
    return mode;
  }

  /**
   * Loads or reloads model (or pipeline) {@code name} from its folder as it is now.
   *
   * @throws InvalidInputException outside {@code explicit} mode, or for a name that is not a folder name
   * @throws io.serval.core.ModelNotFoundException when no repository has that folder
   * @throws io.serval.core.ModelUnavailableException when it failed to load, with the reason
   */
  public void load(String name) {
    requireExplicit("load");
    repository.loadModel(name);
  }

  /**
   * Stops serving model (or pipeline) {@code name}; requests under way finish.
   *
   * @throws InvalidInputException outside {@code explicit} mode
   * @throws io.serval.core.ModelNotFoundException when it is not served
   */
  public void unload(String name) {
    requireExplicit("unload");
    repository.unloadModel(name);
  }

  /**
   * Checks the names of a load or unload request's parameters: Triton's {@code config} and {@code file:...} (a
   * configuration or model files sent with the call) are not supported, as Serval loads only what the repository
   * folders hold; {@code unload_dependents} is accepted and changes nothing (pipelines resolve their models per
   * request); anything else is refused.
   *
   * @throws io.serval.core.UnsupportedFeatureException for {@code config} and {@code file:} parameters
   * @throws InvalidInputException for unknown ones
   */
  public static void checkParameters(String action, List<String> names) {
    for (String name : names) {
      if (name.equals("config") || name.startsWith("file:")) {
        throw new UnsupportedFeatureException("repository " + action + " parameter '" + name + "' is not supported:"
            + " Serval loads models only from the repository folders (copy the files there instead)");
      }
      if (!(action.equals("unload") && name.equals("unload_dependents"))) {
        throw new InvalidInputException("unknown repository " + action + " parameter '" + name + "' (expected: "
            + (action.equals("unload") ? "unload_dependents, or none" : "none") + ")");
      }
    }
  }

  private void requireExplicit(String action) {
    if (!mode.equals("explicit")) {
      throw new InvalidInputException("explicit model " + action + " is not allowed in model control mode '" + mode
          + "'" + (mode.equals("poll") ? " (the repository folders are watched: change them instead)" : "")
          + " (expected: the server started with --model_control_mode=explicit)");
    }
  }

  @Override
  public void close() {
    if (watcher != null) {
      watcher.close();
    }
  }
}
