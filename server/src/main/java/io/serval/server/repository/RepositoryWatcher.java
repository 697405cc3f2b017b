package io.serval.server.repository;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code poll} control mode: rescans the repository when its folders change (file-system events on the
 * repository folders, each model folder and each version folder) and every {@code pollSeconds} whatever happens,
 * in case events are lost (network file systems send none). A change is rescanned after a quiet {@value
 * #QUIET_MILLIS} ms, so a copy of many files is one rescan, not one per file; while a version folder settles, the
 * watcher looks again once its settle time has passed.
 *
 * <pre>{@code
 * RepositoryWatcher watcher = RepositoryWatcher.start(repository, roots, 10, 250);
 * watcher.close();
 * }</pre>
 */
public final class RepositoryWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RepositoryWatcher.class);
  /** How long events must stop before a rescan. */
  static final long QUIET_MILLIS = 50;

  private final ModelRepository repository;
  private final List<Path> roots;
  private final long pollMillis;
  private final long settleMillis;
  private final WatchService watch;
  private final Map<Path, WatchKey> watched = new HashMap<>();
  private final Thread thread;
  private volatile boolean closed;

  private RepositoryWatcher(ModelRepository repository, List<Path> roots, long pollMillis, long settleMillis)
      throws IOException {
    this.repository = repository;
    this.roots = List.copyOf(roots);
    this.pollMillis = pollMillis;
    this.settleMillis = settleMillis;
    this.watch = FileSystems.getDefault().newWatchService();
    this.thread = new Thread(this::run, "serval-repository-watcher");
    this.thread.setDaemon(true);
  }

  /** Starts watching {@code roots} for {@code repository}. */
  public static RepositoryWatcher start(ModelRepository repository, List<Path> roots, int pollSeconds,
      long settleMillis) throws IOException {
    RepositoryWatcher watcher =
        new RepositoryWatcher(repository, roots, TimeUnit.SECONDS.toMillis(pollSeconds), settleMillis);
    watcher.registerFolders();
    watcher.thread.start();
    return watcher;
  }

  private void run() {
    boolean settling = false;
    long nextRescan = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pollMillis);
    while (!closed) {
      try {
        long untilRescan = TimeUnit.NANOSECONDS.toMillis(nextRescan - System.nanoTime());
        long wait = Math.max(1, settling ? Math.min(settleMillis, untilRescan) : untilRescan);
        WatchKey key = watch.poll(wait, TimeUnit.MILLISECONDS);
        if (key != null) {
          // Take the burst of events a copy makes, then rescan once.
          do {
            key.pollEvents();
            key.reset();
            key = watch.poll(QUIET_MILLIS, TimeUnit.MILLISECONDS);
          } while (key != null && !closed);
        }
        if (closed) {
          return;
        }
        settling = repository.rescan();
        registerFolders();
        nextRescan = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pollMillis);
      } catch (InterruptedException | ClosedWatchServiceException e) {
        return;
      } catch (RuntimeException e) {
        log.error("repository watcher: rescan failed; trying again at the next change or poll", e);
      }
    }
  }

  /** Watches the repository folders, their model folders and those folders' version folders. */
  private void registerFolders() {
    watched.entrySet().removeIf(entry -> !entry.getValue().isValid());
    for (Path root : roots) {
      try (Stream<Path> folders = Files.walk(root, 2)) {
        folders.filter(Files::isDirectory).forEach(this::register);
      } catch (IOException | RuntimeException e) {
        log.warn("repository watcher: cannot list {} ({}); the rescan every {} s still sees it", root, e.getMessage(),
            TimeUnit.MILLISECONDS.toSeconds(pollMillis));
      }
    }
  }

  private void register(Path folder) {
    if (watched.containsKey(folder)) {
      return;
    }
    try {
      watched.put(folder, folder.register(watch, StandardWatchEventKinds.ENTRY_CREATE,
          StandardWatchEventKinds.ENTRY_DELETE, StandardWatchEventKinds.ENTRY_MODIFY));
    } catch (IOException e) {
      log.debug("repository watcher: cannot watch {}: {}", folder, e.getMessage());
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      watch.close();
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (IOException e) {
      log.debug("repository watcher: closing: {}", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
