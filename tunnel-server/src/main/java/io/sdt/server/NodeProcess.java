package io.sdt.server;

import io.sdt.codec.HostPort;
import io.sdt.core.SdtClient;
import io.sdt.core.SdtServer;
import io.sdt.core.TunnelChange;
import io.sdt.core.policy.Policy;
import io.sdt.server.admin.AdminServer;
import io.sdt.server.admin.NodeView;
import io.sdt.server.config.ConfigException;
import io.sdt.server.config.ConfigReader;
import io.sdt.server.config.NodeConfig;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import sun.misc.Signal;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

/**
 * Runs one node (server or client, and its admin endpoint) from a {@link NodeConfig} until it is told
 * to stop. SIGTERM and SIGINT drain it: it stops accepting, lets open channels finish up to the
 * configuration's drain timeout, then closes and exits 0. When it runs from a file, SIGHUP and any
 * change of the file's content reload it ({@link #reload}). All of this happens on the thread that
 * called {@link #run}: signals and the file watcher only queue events for it.
 */
final class NodeProcess {

    private static final Logger log = LogManager.getLogger(NodeProcess.class);
    /** A change of the file is applied once it has been quiet this long (editors write in steps). */
    private static final long SETTLE_MILLIS = 300;

    private enum Event { STOP, RELOAD, FILE_CHANGED, FATAL }

    private final Path file;
    private final Function<String, String> names;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private NodeConfig config;
    private SdtServer server;
    private SdtClient client;
    private AdminServer admin;
    private byte[] fileDigest;
    private Throwable fatal;
    private volatile String stopSignal;

    private NodeProcess(NodeConfig config, Path file, Function<String, String> names) {
        this.config = config;
        this.file = file;
        this.names = names;
    }

    /** Runs a node from a command line (no file to reload). */
    static int fromFlags(NodeConfig config) throws Exception {
        return new NodeProcess(config, null, NodeSetup.FLAGS).run();
    }

    /** Runs a node from {@code file}, reloading it on SIGHUP and when it changes. */
    static int fromFile(NodeConfig config, Path file) throws Exception {
        return new NodeProcess(config, file, NodeSetup.FILE).run();
    }

    private int run() throws Exception {
        LogSetup.apply(config.logging());
        NodeSetup.Admin adminAt = NodeSetup.admin(config, names);
        if (config.role() == NodeConfig.Role.SERVER) {
            server = new SdtServer(NodeSetup.server(config, names));
        } else {
            client = new SdtClient(NodeSetup.client(config, names));
            client.fatalFailure().whenComplete((v, e) -> {
                fatal = e;
                events.add(Event.FATAL);
            });
        }
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), sig -> {
                stopSignal = "SIG" + sig.getName();
                events.add(Event.STOP);
            });
        }
        Signal.handle(new Signal("HUP"), sig -> events.add(Event.RELOAD));
        try {
            if (server != null) {
                server.start();
            } else {
                client.start();
            }
            if (adminAt != null) {
                admin = new AdminServer(adminAt.address(),
                        server != null ? server.config().transport() : client.config().transport(),
                        server != null ? NodeView.of(server) : NodeView.of(client), adminAt.token());
                admin.start();
            }
        } catch (IllegalStateException e) {
            close();
            throw e;
        }
        Thread watcher = file == null ? null : watch();
        try {
            return loop();
        } finally {
            if (watcher != null) {
                watcher.interrupt();
            }
        }
    }

    private int loop() throws InterruptedException {
        while (true) {
            Event e = events.take();
            switch (e) {
                case RELOAD -> {
                    if (file == null) {
                        log.warn("SIGHUP: this node runs from flags, there is no configuration file to reload");
                    } else {
                        log.info("SIGHUP: reloading {}", file);
                        reload();
                    }
                }
                case FILE_CHANGED -> {
                    if (contentChanged()) {
                        log.info("{} changed: reloading", file);
                        reload();
                    }
                }
                case STOP -> {
                    drainAndClose();
                    return 0;
                }
                case FATAL -> {
                    close();
                    System.err.println("sdt: error: " + fatal.getMessage());
                    return Main.EXIT_FAILURE;
                }
            }
        }
    }

    /**
     * Reads the file again and applies what a running node can: tunnels added, removed and changed
     * (unchanged ones keep their listeners and channels), policy for new channels, logging, the drain
     * timeout. An invalid file, or one that changes what needs a restart (the link, TLS, the admin
     * address), is rejected whole: it is logged and the running configuration stays.
     */
    private void reload() {
        fileDigest = digest();
        NodeConfig next;
        try {
            next = ConfigReader.read(file);
            List<String> restart = config.restartKeys(next);
            if (!restart.isEmpty()) {
                throw new ConfigException(restart.stream().map(k -> k + ": changed; a running node cannot apply "
                        + "this, restart it").toList());
            }
            if (server != null) {
                Policy[] policy = NodeSetup.serverPolicy(next, names);
                server.updatePolicy(policy[0], policy[1]);
                LogSetup.apply(next.logging());
                config = next;
                log.info("configuration reloaded from {}", file);
            } else {
                NodeSetup.ClientPolicy policy = NodeSetup.clientPolicy(next, names);
                TunnelChange change = client.reconfigure(next.tunnels(), policy.exits(), policy.proxyAuth());
                LogSetup.apply(next.logging());
                config = next;
                log.info("configuration reloaded from {}: {} tunnels kept, {} added, {} removed", file,
                        change.kept().size(), change.added().size(), change.removed().size());
            }
        } catch (ConfigException e) {
            log.error("reload of {} rejected, the running configuration stays:\n  {}", file,
                    String.join("\n  ", e.problems()));
        } catch (IllegalArgumentException e) {
            log.error("reload of {} rejected, the running configuration stays: {}", file, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void drainAndClose() throws InterruptedException {
        Duration timeout = config.drainTimeout();
        log.info("{} received; shutting down: draining open channels (up to {} ms)", stopSignal, timeout.toMillis());
        boolean clean = server != null ? server.drain(timeout) : client.drain(timeout);
        if (!clean) {
            log.warn("drain timeout: closing the channels still open");
        }
        close();
    }

    private void close() {
        if (admin != null) {
            admin.close();
        }
        if (server != null) {
            server.close();
        }
        if (client != null) {
            client.close();
        }
    }

    // ---- the file watcher ----

    /**
     * Watches the file's directory: an edit in place, a rename over it (editors, {@code mv}) and a
     * symlink swap (Kubernetes ConfigMaps) all show up as events there. The loop reloads only when
     * the content's digest differs from the last one applied.
     */
    private Thread watch() throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        WatchService ws = FileSystems.getDefault().newWatchService();
        dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
        fileDigest = digest();
        return Thread.ofPlatform().daemon().name("sdt-config-watch").start(() -> {
            try (ws) {
                while (true) {
                    WatchKey key = ws.take();
                    key.pollEvents();
                    key.reset();
                    // let a burst of writes settle, then tell the loop once
                    while (true) {
                        WatchKey more = ws.poll(SETTLE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
                        if (more == null) {
                            break;
                        }
                        more.pollEvents();
                        more.reset();
                    }
                    events.add(Event.FILE_CHANGED);
                }
            } catch (InterruptedException | ClosedWatchServiceException | IOException e) {
                // stopping
            }
        });
    }

    private boolean contentChanged() {
        byte[] now = digest();
        return now != null && !Arrays.equals(now, fileDigest);
    }

    private byte[] digest() {
        try {
            return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
        } catch (IOException e) {
            return null; // gone for a moment (a rename in progress): the next event looks again
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
