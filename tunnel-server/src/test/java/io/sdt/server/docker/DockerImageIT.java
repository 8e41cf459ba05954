package io.sdt.server.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.ContainerConfig;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HealthCheck;
import com.github.dockerjava.api.model.Ports;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static io.sdt.server.docker.DockerImages.quietly;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * The Docker image end to end. docker/Dockerfile is built, unchanged, on base images made on this
 * machine without a registry (docker/make-local-bases.sh: Debian from its packages, the JDK the
 * tests run on); a server and a client container run on a network of their own, the server
 * hardened as docs/DOCKER.md recommends (read-only root, noexec /tmp, no capabilities); a TCP stream
 * and UDP datagrams go through the client's forwards (published on 127.0.0.1) and the server to echo
 * targets in this JVM on the network's gateway address, and must come back byte for byte. Then
 * health, the unprivileged user, and `docker stop` (SIGTERM: exit 0 within the timeout).
 *
 * <p>When no Docker engine answers, docker/start-engine.sh starts Debian's dockerd (as root) and
 * the test stops it afterwards. Where no engine can run, or the base images cannot be made (no
 * mmdebstrap, no package mirror), every test here is skipped with the reason, never passed.
 * Everything the test creates (containers, network, images) is removed at the end.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class DockerImageIT {

    private static final Logger log = LogManager.getLogger(DockerImageIT.class);

    /** On every container and the image this test makes, to find leftovers of a run that died. */
    private static final String LABEL = "io.sdt.test";
    private static final String LABEL_VALUE = "DockerImageIT";
    private static final String IMAGE_PREFIX = "sdt-it";
    private static final int UID = 10001;
    private static final int ADMIN_PORT = 9090;
    private static final int CLIENT_TCP_PORT = 8080;
    private static final int CLIENT_UDP_PORT = 5353;
    /** Above the node's default drain timeout (30 s), as docs/DOCKER.md tells operators to set it. */
    private static final int STOP_TIMEOUT_SECONDS = 45;
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{43}");

    private final String run = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    private final String runtimeBase = IMAGE_PREFIX + "-base/debian:trixie-slim-" + run;
    private final String jdkBase = IMAGE_PREFIX + "-base/temurin:25-jdk-" + run;
    private final String imageName = IMAGE_PREFIX + "/sdt:" + run;
    private final Queue<String> serverLog = new ConcurrentLinkedQueue<>();
    private final Queue<String> clientLog = new ConcurrentLinkedQueue<>();

    private DockerEngine engine;
    private DockerClient docker;
    private DockerImages images;
    private boolean basesMade;
    private List<String> builtImages = List.of();
    private Network network;
    private GatewayEcho echo;
    private String token;
    private GenericContainer<?> server;
    private GenericContainer<?> client;

    @BeforeAll
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void startServerAndClientContainers() throws Exception {
        Path root = Repo.root();
        Path jar = Repo.jar(root);
        long t0 = System.nanoTime();
        engine = DockerEngine.ensure(root);
        docker = DockerClientFactory.instance().client();
        images = new DockerImages(docker);
        images.removeLeftovers(LABEL, LABEL_VALUE, IMAGE_PREFIX);
        long t1 = System.nanoTime();

        Shell.Result bases = Shell.run(root, Duration.ofMinutes(6),
                Map.of("JAVA_HOME", System.getProperty("java.home")),
                "bash", "docker/make-local-bases.sh", runtimeBase, jdkBase);
        basesMade = true; // even a failed run may have imported one of them
        if (bases.exit() == Shell.UNAVAILABLE) {
            String reason = "the base images cannot be made here: " + bases.lastErrorLine();
            log.warn("Docker tests skipped: {}", reason);
            abort(reason);
        }
        assertEquals(0, bases.exit(), "docker/make-local-bases.sh failed: " + bases.describe());
        log.info("base images: {}", bases.err().strip());
        long t2 = System.nanoTime();

        Set<String> before = images.ids();
        @SuppressWarnings("deprecation") // withDockerfilePath: the context is these files, not a directory
        ImageFromDockerfile build = new ImageFromDockerfile(imageName, false)
                .withDockerfilePath("docker/Dockerfile")
                .withFileFromPath("docker/Dockerfile", Repo.dockerfile(root))
                .withFileFromPath("docker/bin", root.resolve("docker/bin"))
                .withFileFromPath("tunnel-server/target/sdt.jar", jar)
                .withFileFromPath("tunnel-server/target/lib", Repo.lib(root))
                .withBuildArg("JDK_IMAGE", jdkBase)
                .withBuildArg("RUNTIME_IMAGE", runtimeBase)
                .withBuildImageCmdModifier(cmd -> cmd.withLabels(Map.of(LABEL, LABEL_VALUE)));
        try {
            build.get();
        } finally {
            // the tag first: removing it takes its untagged parents along; then the build stage's
            builtImages = new ArrayList<>(List.of(imageName));
            builtImages.addAll(images.madeSince(before));
        }
        long t3 = System.nanoTime();

        network = Network.newNetwork();
        String gateway = docker.inspectNetworkCmd().withNetworkId(network.getId()).exec()
                .getIpam().getConfig().getFirst().getGateway();
        echo = new GatewayEcho(InetAddress.getByName(gateway));
        token = freshToken();

        server = node("server", serverLog)
                .withNetworkAliases("sdt-server")
                .withCommand("server", "--listen", "0.0.0.0:7000",
                        "--allow-target", gateway + ":" + echo.tcpPort(),
                        "--allow-target", gateway + ":" + echo.udpPort(),
                        "--admin", "0.0.0.0:" + ADMIN_PORT)
                // hardened as docs/DOCKER.md and docker-compose.yml recommend
                .withTmpFs(Map.of("/tmp", "rw,noexec,nosuid,nodev,size=64m"))
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.getHostConfig().withReadonlyRootfs(true).withCapDrop(Capability.ALL)
                            .withSecurityOpts(List.of("no-new-privileges"));
                    cmd.withHealthcheck(quickHealthcheck());
                });
        // the client runs from a mounted configuration file whose values come from the environment,
        // as docs/DOCKER.md and docker-compose.yml do it (the server above runs from flags)
        String config = """
                node: client
                link: {server: "sdt-server:7000"}   # the token: env SDT_TOKEN
                admin: "0.0.0.0:${ADMIN_PORT}"
                tunnels:
                  - {bind: "0.0.0.0:%d", target: "${ECHO_HOST}:${ECHO_TCP}"}
                  - {protocol: udp, bind: "0.0.0.0:%d", target: "${ECHO_HOST}:${ECHO_UDP}"}
                """.formatted(CLIENT_TCP_PORT, CLIENT_UDP_PORT);
        client = node("client", clientLog)
                .withCopyToContainer(org.testcontainers.images.builder.Transferable.of(config, 0644), "/etc/sdt/sdt.yaml")
                .withEnv(Map.of("ADMIN_PORT", Integer.toString(ADMIN_PORT), "ECHO_HOST", gateway,
                        "ECHO_TCP", Integer.toString(echo.tcpPort()), "ECHO_UDP", Integer.toString(echo.udpPort())))
                .withCommand("run", "/etc/sdt/sdt.yaml")
                .withCreateContainerCmdModifier(cmd -> {
                    ExposedPort tcp = ExposedPort.tcp(CLIENT_TCP_PORT);
                    ExposedPort udp = ExposedPort.udp(CLIENT_UDP_PORT);
                    Ports ports = new Ports();
                    ports.bind(tcp, Ports.Binding.bindIp("127.0.0.1"));
                    ports.bind(udp, Ports.Binding.bindIp("127.0.0.1"));
                    cmd.withExposedPorts(tcp, udp);
                    cmd.getHostConfig().withPortBindings(ports);
                    cmd.withHealthcheck(quickHealthcheck());
                });
        // together: the client retries with backoff until the server listens
        Startables.deepStart(server, client).get(5, TimeUnit.MINUTES);
        long t4 = System.nanoTime();
        log.info("Docker test setup: engine {} s, base images {} s, image build {} s, containers {} s",
                secs(t1 - t0), secs(t2 - t1), secs(t3 - t2), secs(t4 - t3));
    }

    @Test
    @Order(1)
    void imageRunsSdtAsAnUnprivilegedUserWithAHealthcheck() throws Exception {
        InspectImageResponse image = docker.inspectImageCmd(imageName).exec();
        ContainerConfig config = image.getConfig();
        assertEquals(UID + ":" + UID, config.getUser(), "USER");
        assertEquals(List.of("sdt"), Arrays.asList(config.getEntrypoint()), "ENTRYPOINT");
        assertEquals(List.of("CMD", "sdt-healthcheck"), config.getHealthcheck().getTest(), "HEALTHCHECK");
        // docker-java's ContainerConfig has no StopSignal; the CLI talks to the same engine
        Shell.Result stopSignal = Shell.run(Repo.root(), Duration.ofSeconds(30), Map.of(),
                "docker", "image", "inspect", "--format", "{{.Config.StopSignal}}", imageName);
        assertEquals("SIGTERM", stopSignal.out().strip(), "STOPSIGNAL (" + stopSignal.describe() + ")");
        Set<String> exposed = Arrays.stream(config.getExposedPorts()).map(ExposedPort::toString)
                .collect(Collectors.toSet());
        assertEquals(Set.of("7000/tcp", "9090/tcp"), exposed, "EXPOSE");
        assertTrue(TOKEN.matcher(token).matches(), "`docker run IMAGE token` printed " + token);
    }

    @Test
    @Order(2)
    void bothNodesBecomeHealthyRunAsUid10001AndServeJvmMetrics() throws Exception {
        for (GenericContainer<?> node : List.of(server, client)) {
            InspectContainerResponse info = docker.inspectContainerCmd(node.getContainerId()).exec();
            String name = info.getName();
            assertEquals("healthy", info.getState().getHealth().getStatus(), name + " health");
            // the quick interval set for the test keeps the image's own check command
            assertEquals(List.of("CMD", "sdt-healthcheck"), info.getConfig().getHealthcheck().getTest(),
                    name + " health check command");
            String status = node.execInContainer("cat", "/proc/1/status").getStdout();
            assertTrue(Pattern.compile("(?m)^Name:\tjava$").matcher(status).find(),
                    name + ": PID 1 is not java (the launcher must exec it):\n" + status);
            assertTrue(Pattern.compile("(?m)^Uid:\\t" + UID + "\\t" + UID + "\\t" + UID + "\\t" + UID + "$")
                    .matcher(status).find(), name + ": PID 1 does not run as uid " + UID + ":\n" + status);
            // the AOT cache the image build made is valid for the image's runtime: the JVM has it mapped
            String maps = node.execInContainer("cat", "/proc/1/maps").getStdout();
            assertTrue(maps.contains("/opt/sdt/sdt.aot"), name + ": the JVM does not use /opt/sdt/sdt.aot");
        }
        // the jlink'd runtime serves Micrometer's JVM metrics (java.management, jdk.management)
        String metrics = client.execInContainer("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/" + ADMIN_PORT
                + "; printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3").getStdout();
        for (String family : List.of("jvm_memory_used_bytes", "process_cpu_usage", "sdt_links_up")) {
            assertTrue(metrics.contains("\n" + family), "/metrics lacks " + family + ":\n" + metrics);
        }
        String serverMounts = server.execInContainer("cat", "/proc/self/mounts").getStdout();
        assertTrue(serverMounts.lines().map(l -> l.split(" "))
                        .anyMatch(f -> f.length > 3 && f[1].equals("/") && f[3].matches("ro(,.*)?")),
                "the server's root file system is not read-only:\n" + serverMounts);
    }

    @Test
    @Order(3)
    void tcpStreamComesBackByteForByteThroughClientAndServer() throws Exception {
        byte[] data = new byte[8 << 20];
        new SplittableRandom(6).nextBytes(data);
        byte[] back;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), published(ExposedPort.tcp(CLIENT_TCP_PORT))),
                    10_000);
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    out.write(data);
                    s.shutdownOutput();
                } catch (IOException e) {
                    log.warn("writing into the tunnel failed: {}", e.toString());
                }
            });
            InputStream in = s.getInputStream();
            back = in.readAllBytes();
            writer.join();
        }
        assertEquals(data.length, back.length, "bytes echoed through the tunnel");
        assertEquals(-1, Arrays.mismatch(data, back), "first byte that differs");
        assertEquals(Set.of(containerIp(server)), echo.tcpPeers(),
                "the TCP target must see connections from the server container only");
    }

    @Test
    @Order(4)
    void udpDatagramsComeBackByteForByteThroughClientAndServer() throws Exception {
        int port = published(ExposedPort.udp(CLIENT_UDP_PORT));
        SplittableRandom random = new SplittableRandom(7);
        int echoed = 0;
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout(2_000);
            for (int i = 0; i < 64; i++) {
                byte[] datagram = new byte[1 + random.nextInt(1400)];
                random.nextBytes(datagram);
                datagram[0] = (byte) i;
                if (exchange(socket, port, datagram)) {
                    echoed++;
                }
            }
        }
        assertEquals(64, echoed, "datagrams echoed byte for byte");
        assertEquals(Set.of(containerIp(server)), echo.udpPeers(),
                "the UDP target must see datagrams from the server container only");
    }

    @Test
    @Order(5)
    void dockerStopDrainsAndExitsZeroWithinTheTimeout() {
        for (GenericContainer<?> node : List.of(client, server)) {
            String id = node.getContainerId();
            long t0 = System.nanoTime();
            docker.stopContainerCmd(id).withTimeout(STOP_TIMEOUT_SECONDS).exec();
            long took = System.nanoTime() - t0;
            InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(id).exec().getState();
            String name = docker.inspectContainerCmd(id).exec().getName();
            log.info("docker stop {}: exit {} after {} s", name, state.getExitCodeLong(), secs(took));
            assertEquals(0L, state.getExitCodeLong(), name + " exit code after SIGTERM (137: killed at the "
                    + "timeout); its log:\n" + String.join("\n", node == server ? serverLog : clientLog));
            assertTrue(took < TimeUnit.SECONDS.toNanos(STOP_TIMEOUT_SECONDS), name + " took " + secs(took) + " s");
        }
    }

    @AfterAll
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void removeEverythingThisTestMade() throws Exception {
        for (GenericContainer<?> node : new GenericContainer<?>[] {client, server}) {
            quietly("remove container", () -> {
                if (node != null) {
                    node.stop();
                }
            });
        }
        quietly("remove network", () -> {
            if (network != null) {
                network.close();
            }
        });
        quietly("close echo targets", () -> {
            if (echo != null) {
                echo.close();
            }
        });
        if (images != null) {
            List<String> made = new ArrayList<>(builtImages);
            if (basesMade) {
                made.addAll(List.of(runtimeBase, jdkBase));
            }
            images.remove(made);
        }
        if (engine != null) {
            engine.close();
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    private GenericContainer<?> node(String role, Queue<String> lines) {
        return new GenericContainer<>(DockerImageName.parse(imageName))
                .withNetwork(network)
                .withEnv("SDT_TOKEN", token)
                .withLabel(LABEL, LABEL_VALUE)
                .withLogConsumer((OutputFrame frame) -> {
                    String line = frame.getUtf8StringWithoutLineEnding();
                    lines.add(line);
                    log.info("[{}] {}", role, line);
                })
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofMinutes(2)));
    }

    /** The image's check, probed every second instead of every 10 s so the test does not wait. */
    private static HealthCheck quickHealthcheck() {
        return new HealthCheck().withInterval(TimeUnit.SECONDS.toNanos(1))
                .withStartPeriod(TimeUnit.SECONDS.toNanos(120));
    }

    /** `docker run IMAGE token`: the entrypoint runs sdt, which prints a fresh token. */
    private String freshToken() {
        try (GenericContainer<?> once = new GenericContainer<>(DockerImageName.parse(imageName))
                .withCommand("token").withLabel(LABEL, LABEL_VALUE)
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofMinutes(1)))) {
            once.start();
            return once.getLogs(OutputFrame.OutputType.STDOUT).strip();
        }
    }

    /** Sends one datagram and waits for its echo; sends again (up to 5 times) when none comes. */
    private static boolean exchange(DatagramSocket socket, int port, byte[] datagram) throws IOException {
        InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        byte[] buf = new byte[65_535];
        for (int attempt = 0; attempt < 5; attempt++) {
            socket.send(new DatagramPacket(datagram, datagram.length, to));
            try {
                while (true) {
                    DatagramPacket reply = new DatagramPacket(buf, buf.length);
                    socket.receive(reply);
                    byte[] got = Arrays.copyOf(reply.getData(), reply.getLength());
                    if (got.length > 0 && got[0] == datagram[0]) {
                        assertArrayEquals(datagram, got, "datagram " + datagram[0] + " came back changed");
                        return true;
                    }
                    // else a late echo of an earlier datagram that was sent twice: not this one's
                }
            } catch (SocketTimeoutException e) {
                log.warn("no echo for datagram {} within 2 s (attempt {})", datagram[0], attempt + 1);
            }
        }
        return false;
    }

    private int published(ExposedPort port) {
        Ports.Binding[] bindings = client.getContainerInfo().getNetworkSettings().getPorts().getBindings().get(port);
        return Integer.parseInt(bindings[0].getHostPortSpec());
    }

    private InetAddress containerIp(GenericContainer<?> node) throws IOException {
        Map<String, ContainerNetwork> networks = node.getContainerInfo().getNetworkSettings().getNetworks();
        ContainerNetwork net = networks.values().stream()
                .filter(n -> network.getId().equals(n.getNetworkID())).findFirst().orElseThrow();
        return InetAddress.getByName(net.getIpAddress());
    }

    private static String secs(long nanos) {
        return String.format("%.1f", nanos / 1e9);
    }
}
