package io.sdt.core.tun;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The FFM device layer against the real kernel. Needs root (CAP_NET_ADMIN) and /dev/net/tun; skipped
 * otherwise. The device it creates is never brought up and disappears when the test closes it.
 */
class TunDeviceTest {

    private static void assumeRoot() {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root (CAP_NET_ADMIN) to create a TUN device");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "/dev/net/tun is missing");
    }

    @Test
    void createdDeviceExistsWhileOpenAndVanishesOnClose() throws Exception {
        assumeRoot();
        String name = "sdtt" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 20, 1 << 24));
        try (Interfaces ifs = new Interfaces()) {
            assertFalse(ifs.exists(name));
            TunDevice tun = TunDevice.open(name);
            try {
                assertEquals(name, tun.name());
                assertTrue(tun.created());
                assertTrue(ifs.exists(name));
                assertEquals(0, ifs.ipv4(name), "no address yet");
                assertEquals(1500, ifs.mtu(name));
            } finally {
                tun.close();
            }
            assertFalse(ifs.exists(name));
        }
    }

    @Test
    void aNonTunInterfaceIsRefusedWithTheReason() {
        assumeRoot();
        IOException e = assertThrows(IOException.class, () -> TunDevice.open("lo"));
        assertTrue(e.getMessage().contains("not a TUN device"), e.getMessage());
    }

    @Test
    void loopbackAddressIsReadWithIoctl() throws Exception {
        try (Interfaces ifs = new Interfaces()) {
            assertEquals(ip(127, 0, 0, 1), ifs.ipv4("lo"));
            assertEquals(ip(255, 0, 0, 0), ifs.netmask("lo"));
            assertThrows(Native.NativeException.class, () -> ifs.mtu("nonexistent0"));
        }
    }

    @Test
    void interfaceNamesAreCheckedLikeTheKernelDoes() {
        assertThrows(IllegalArgumentException.class, () -> Interfaces.validName(""));
        assertThrows(IllegalArgumentException.class, () -> Interfaces.validName("a-very-long-name0"));
        assertThrows(IllegalArgumentException.class, () -> Interfaces.validName("a/b"));
        assertThrows(IllegalArgumentException.class, () -> Interfaces.validName("a b"));
        assertThrows(IllegalArgumentException.class, () -> Interfaces.validName(".."));
        assertEquals("tun0", Interfaces.validName("tun0"));
        assertEquals("fifteen-chars-x", Interfaces.validName("fifteen-chars-x"));
    }

    /** An IPv4 address as the big-endian int that {@link Interfaces#ipv4} returns. */
    private static int ip(int a, int b, int c, int d) {
        return a << 24 | b << 16 | c << 8 | d;
    }
}
