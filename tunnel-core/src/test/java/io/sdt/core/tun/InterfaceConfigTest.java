package io.sdt.core.tun;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link InterfaceConfig} against the real kernel, never in the host's own network namespace: each test
 * gets a fresh namespace ({@code ip netns add}) and one thread that {@code setns}es into it (namespaces
 * are per thread on Linux, so only that thread moves). That thread opens the TUN device and the ioctl
 * sockets, so both act in the namespace; the result is read from outside with {@code ip -n NS -j}.
 * Needs root, /dev/net/tun and iproute2; skipped otherwise.
 */
class InterfaceConfigTest {

    private static final long TIMEOUT_SECONDS = 20;

    private String ns;
    private ExecutorService inside;
    private final String tun = "sdtc" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 20, 1 << 24));

    @BeforeEach
    void enterNamespace() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "/dev/net/tun is missing");
        assumeTrue(ipAvailable(), "iproute2's ip is missing");
        String name = "sdt-tun-test-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 20, 1 << 24));
        Run add = run("ip", "netns", "add", name);
        assumeTrue(add.rc == 0, "cannot create a network namespace: " + add.out);
        ns = name;
        inside = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "netns-" + name);
            t.setDaemon(true);
            return t;
        });
        inNamespace(() -> {
            int fd = Native.open("/var/run/netns/" + name, Native.O_RDONLY | Native.O_CLOEXEC);
            try {
                Native.setns(fd, Native.CLONE_NEWNET);
            } finally {
                Native.close(fd);
            }
            return null;
        });
    }

    @AfterEach
    void deleteNamespace() throws Exception {
        if (inside != null) {
            inside.shutdownNow(); // the thread ends, and with it its hold on the namespace
            assertTrue(inside.awaitTermination(TIMEOUT_SECONDS, TimeUnit.SECONDS), "the namespace thread ended");
        }
        if (ns != null) {
            Run del = run("ip", "netns", "del", ns);
            assertEquals(0, del.rc, del.out);
            assertFalse(run("ip", "netns", "list").out.contains(ns), "namespace " + ns + " is gone");
            assertFalse(Files.exists(Path.of("/var/run/netns", ns)));
        }
    }

    @Test
    void mtuLinkStateAndAddressesAreSetInTheNamespaceOnly() throws Exception {
        boolean ipv6 = enableIpv6();
        TunDevice dev = inNamespace(() -> TunDevice.open(tun));
        try {
            inNamespace(() -> {
                try (InterfaceConfig config = new InterfaceConfig()) {
                    config.setMtu(tun, 1400);
                    config.up(tun);
                    config.up(tun); // already up: nothing to do
                    config.addAddress(tun, bytes("10.8.0.2"), 24);
                    if (ipv6) {
                        config.addAddress(tun, bytes("fd00:8::2"), 64);
                        config.addAddress(tun, bytes("fd00:8::2"), 64); // already there: not an error
                    }
                }
                return null;
            });
            Interfaces ifs = dev.interfaces(); // its socket was opened in the namespace too
            assertEquals(1400, ifs.mtu(tun));
            assertEquals(0x0a080002, ifs.ipv4(tun));
            assertEquals(0xffffff00, ifs.netmask(tun));

            String addr = ip("-j", "addr", "show", "dev", tun);
            assertTrue(addr.contains("\"mtu\":1400"), addr);
            assertTrue(flags(addr).contains("\"UP\""), addr);
            assertTrue(object(addr, "\"local\":\"10.8.0.2\"").contains("\"prefixlen\":24"), addr);
            if (ipv6) {
                assertTrue(object(addr, "\"local\":\"fd00:8::2\"").contains("\"prefixlen\":64"), addr);
            }
            try (Interfaces host = new Interfaces()) { // opened in the test's own thread: the host's namespace
                assertFalse(host.exists(tun), "the host's namespace was not touched");
            }
        } finally {
            inNamespace(() -> {
                dev.close();
                return null;
            });
        }
        assertGone();
    }

    @Test
    void routesAreAddedOnceDeletedOnceAndGoWithTheDevice() throws Exception {
        boolean ipv6 = enableIpv6();
        inNamespace(() -> {
            try (TunDevice dev = TunDevice.open(tun); InterfaceConfig config = new InterfaceConfig()) {
                assertTrue(dev.created(), "this process created it, so closing it removes it");
                IOException down = assertThrows(IOException.class, () -> config.addRoute(tun, bytes("10.9.0.0"), 16));
                assertTrue(down.getMessage().contains(tun + " is down"), down.getMessage());
                config.up(tun);

                config.addRoute(tun, bytes("10.9.0.0"), 16);
                config.addRoute(tun, bytes("10.9.0.0"), 16); // the same route again: not an error
                config.addRoute(tun, bytes("10.10.0.7"), 32);
                assertTrue(route(ip("-j", "-4", "route"), "10.9.0.0/16").contains("\"dev\":\"" + tun + "\""));
                assertTrue(route(ip("-j", "-4", "route"), "10.10.0.7").contains("\"dev\":\"" + tun + "\""));
                if (ipv6) {
                    config.addRoute(tun, bytes("fd00:9::"), 48);
                    config.addRoute(tun, bytes("fd00:9::"), 48);
                    String r6 = route(ip("-j", "-6", "route"), "fd00:9::/48");
                    assertTrue(r6.contains("\"dev\":\"" + tun + "\""), r6);
                    assertTrue(r6.contains("\"metric\":1"), r6);
                    assertFalse(r6.contains("\"type\""), "a unicast route: " + r6);
                }

                config.deleteRoute(tun, bytes("10.9.0.0"), 16);
                config.deleteRoute(tun, bytes("10.9.0.0"), 16); // not there any more: not an error
                assertEquals("", route(ip("-j", "-4", "route"), "10.9.0.0/16"));
                if (ipv6) {
                    config.deleteRoute(tun, bytes("fd00:9::"), 48);
                    config.deleteRoute(tun, bytes("fd00:9::"), 48);
                    assertEquals("", route(ip("-j", "-6", "route"), "fd00:9::/48"));
                    config.addRoute(tun, bytes("fd00:9::"), 48); // for the close below to take along
                }
                assertTrue(route(ip("-j", "-4", "route"), "10.10.0.7").contains(tun), "left for close to remove");
            }
            return null;
        });
        assertGone();
        assertEquals("", route(ip("-j", "-4", "route"), "10.10.0.7"));
        assertEquals("", route(ip("-j", "-6", "route"), "fd00:9::/48"));
    }

    @Test
    void badNamesAddressesAndValuesAreRefusedWithTheReason() throws Exception {
        enableIpv6();
        inNamespace(() -> {
            try (TunDevice dev = TunDevice.open(tun); InterfaceConfig config = new InterfaceConfig()) {
                assertTrue(dev.created(), "this process created it, so closing it removes it");
                config.up(tun);
                String m = assertThrows(IllegalArgumentException.class,
                        () -> config.addAddress(tun, new byte[5], 24)).getMessage();
                assertTrue(m.contains("4 (IPv4) or 16 (IPv6) bytes, not 5"), m);
                m = assertThrows(IllegalArgumentException.class,
                        () -> config.addRoute(tun, new byte[3], 8)).getMessage();
                assertTrue(m.contains("not 3"), m);
                m = assertThrows(IllegalArgumentException.class,
                        () -> config.addAddress(tun, bytes("10.8.0.2"), 33)).getMessage();
                assertTrue(m.contains("prefix length 33"), m);
                m = assertThrows(IllegalArgumentException.class,
                        () -> config.addRoute(tun, bytes("10.9.0.1"), 16)).getMessage();
                assertTrue(m.contains("10.9.0.0/16"), m);
                m = assertThrows(IllegalArgumentException.class,
                        () -> config.addRoute(tun, bytes("fd00:9::1"), 48)).getMessage();
                assertTrue(m.contains("fd00:9:0:0:0:0:0:0/48"), m);
                assertThrows(IllegalArgumentException.class, () -> config.up("a/b"));
                assertThrows(IllegalArgumentException.class, () -> config.setMtu("", 1400));

                List<Executable> onNoSuchDevice = List.of(
                        () -> config.setMtu("nosuch0", 1400),
                        () -> config.up("nosuch0"),
                        () -> config.addAddress("nosuch0", bytes("10.8.0.2"), 24),
                        () -> config.addAddress("nosuch0", bytes("fd00:8::2"), 64),
                        () -> config.removeAddress("nosuch0", bytes("10.8.0.2"), 24),
                        () -> config.addRoute("nosuch0", bytes("10.9.0.0"), 16),
                        () -> config.addRoute("nosuch0", bytes("fd00:9::"), 48),
                        () -> config.deleteRoute("nosuch0", bytes("10.9.0.0"), 16));
                for (Executable call : onNoSuchDevice) {
                    m = assertThrows(IOException.class, call).getMessage();
                    assertTrue(m.contains("no interface nosuch0 in this network namespace"), m);
                }
                m = assertThrows(IOException.class, () -> config.setMtu(tun, 20)).getMessage();
                assertTrue(m.contains(tun + " does not accept MTU 20"), m);
            }
            return null;
        });
        assertGone();
    }

    @Test
    void ipv6DisabledOnTheDeviceIsSaidSo() throws Exception {
        assumeTrue(enableIpv6(), "the kernel has no IPv6");
        inNamespace(() -> {
            try (TunDevice dev = TunDevice.open(tun); InterfaceConfig config = new InterfaceConfig()) {
                assertTrue(dev.created(), "this process created it, so closing it removes it");
                Run off = run("ip", "netns", "exec", ns, "sysctl", "-q", "-w",
                        "net.ipv6.conf." + tun + ".disable_ipv6=1");
                assertEquals(0, off.rc, off.out);
                config.up(tun);
                String m = assertThrows(IOException.class,
                        () -> config.addAddress(tun, bytes("fd00:8::2"), 64)).getMessage();
                assertTrue(m.contains("IPv6 is disabled on " + tun), m);
                config.addAddress(tun, bytes("10.8.0.2"), 24); // IPv4 is unaffected
            }
            return null;
        });
        assertGone();
    }

    @Test
    void addressesAreRemovedOnceAndAReplacedOneIsLeftAlone() throws Exception {
        boolean ipv6 = enableIpv6();
        inNamespace(() -> {
            try (TunDevice dev = TunDevice.open(tun); InterfaceConfig config = new InterfaceConfig()) {
                assertTrue(dev.created(), "this process created it, so closing it removes it");
                config.up(tun);
                config.addAddress(tun, bytes("10.8.0.2"), 24);
                config.addAddress(tun, bytes("10.8.0.3"), 24); // IPv4 through ioctls: replaces 10.8.0.2
                String addr = ip("-j", "addr", "show", "dev", tun);
                assertEquals("", object(addr, "\"local\":\"10.8.0.2\""), addr);
                config.removeAddress(tun, bytes("10.8.0.2"), 24); // not there: 10.8.0.3 stays
                assertTrue(object(ip("-j", "addr", "show", "dev", tun), "\"local\":\"10.8.0.3\"")
                        .contains("\"prefixlen\":24"));
                config.removeAddress(tun, bytes("10.8.0.3"), 24);
                config.removeAddress(tun, bytes("10.8.0.3"), 24); // gone already: not an error
                assertEquals(0, dev.interfaces().ipv4(tun));
                assertEquals("", route(ip("-j", "-4", "route"), "10.8.0.0/24"), "its prefix route went with it");
                if (ipv6) {
                    config.addAddress(tun, bytes("fd00:8::2"), 64);
                    config.addAddress(tun, bytes("fd00:8::3"), 64); // IPv6: a second address
                    config.removeAddress(tun, bytes("fd00:8::2"), 64);
                    config.removeAddress(tun, bytes("fd00:8::2"), 64);
                    addr = ip("-j", "addr", "show", "dev", tun);
                    assertEquals("", object(addr, "\"local\":\"fd00:8::2\""), addr);
                    assertTrue(object(addr, "\"local\":\"fd00:8::3\"").contains("\"prefixlen\":64"), addr);
                }
            }
            return null;
        });
        assertGone();
    }

    // --- helpers

    /** Runs {@code task} on the thread inside the namespace, rethrowing what it throws. */
    private <T> T inNamespace(Callable<T> task) throws Exception {
        try {
            return inside.submit(task).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            if (e.getCause() instanceof Error x) {
                throw x;
            }
            throw e;
        }
    }

    /**
     * Turns IPv6 on in the namespace (all and default, so a device created afterwards has it), if the
     * kernel has IPv6 at all.
     */
    private boolean enableIpv6() throws Exception {
        if (!Files.isDirectory(Path.of("/proc/sys/net/ipv6"))) {
            return false;
        }
        Run on = run("ip", "netns", "exec", ns, "sysctl", "-q", "-w",
                "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0");
        assertEquals(0, on.rc, on.out);
        return true;
    }

    /** The device is gone from the namespace once its creator closed it. */
    private void assertGone() throws Exception {
        for (int i = 0; i < 50 && run("ip", "-n", ns, "link", "show", "dev", tun).rc == 0; i++) {
            Thread.sleep(100);
        }
        Run show = run("ip", "-n", ns, "link", "show", "dev", tun);
        assertTrue(show.rc != 0, "interface " + tun + " is gone: " + show.out);
    }

    /** {@code ip -n NS args...}'s output (JSON with -j), which must succeed. */
    private String ip(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "-n", ns));
        cmd.addAll(List.of(args));
        Run r = run(cmd.toArray(String[]::new));
        assertEquals(0, r.rc, String.join(" ", cmd) + ": " + r.out);
        return r.out;
    }

    /** The innermost JSON object that has {@code field} in it, or "". */
    private static String object(String json, String field) {
        Matcher m = Pattern.compile("\\{[^{}]*" + Pattern.quote(field) + "[^{}]*}").matcher(json);
        return m.find() ? m.group() : "";
    }

    /** The route object whose {@code dst} is {@code dst}, or "". */
    private static String route(String json, String dst) {
        return object(json, "\"dst\":\"" + dst + "\"");
    }

    /** The link's {@code flags} array. */
    private static String flags(String json) {
        Matcher m = Pattern.compile("\"flags\":\\[([^]]*)]").matcher(json);
        return m.find() ? m.group(1) : "";
    }

    private static byte[] bytes(String literal) throws IOException {
        return InetAddress.ofLiteral(literal).getAddress();
    }

    private record Run(int rc, String out) {
    }

    /** Runs a command with a timeout (killed and failed past it); stdout and stderr together. */
    private static Run run(String... cmd) throws Exception {
        File out = File.createTempFile("sdt-ip", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out).start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                fail(String.join(" ", cmd) + " did not finish in " + TIMEOUT_SECONDS + " s");
            }
            return new Run(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8).trim());
        } finally {
            Files.deleteIfExists(out.toPath());
        }
    }

    private static boolean ipAvailable() {
        try {
            return run("ip", "-V").rc == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
