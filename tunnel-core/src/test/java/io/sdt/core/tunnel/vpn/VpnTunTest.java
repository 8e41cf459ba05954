package io.sdt.core.tunnel.vpn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.sdt.codec.IpPrefix;
import io.sdt.core.tun.Interfaces;
import io.sdt.core.tun.OffloadTest;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A VPN device takes a packet whatever buffer holds it (root only: it creates a TUN device, with no
 * address and no route, which disappears when the test closes it). A frame decoded across TLS records
 * arrives as a composite or heap buffer; handed to the device's {@code write} as is, that was EFAULT, and
 * over a 50 ms path most packets of a TCP stream through the VPN were lost that way.
 */
class VpnTunTest {

    private static final int SRC = IpPackets.v4(IpPrefix.parse("10.77.0.2").address());
    private static final int DST = IpPackets.v4(IpPrefix.parse("10.77.0.1").address());

    @Test
    void directHeapAndCompositePacketsAllReachTheDevice() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to create a TUN device");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "/dev/net/tun is missing");
        String name = "sdtvt" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xFFFFF));
        VpnTun tun = VpnTun.open(name, 1500);
        try {
            ByteBuf heap = IpPacketsTest.v4(SRC, DST, 1000);
            assertFalse(heap.isDirect());
            ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(1000).writeBytes(heap, 0, 1000);
            CompositeByteBuf composite = Unpooled.compositeBuffer();
            composite.addComponent(true, PooledByteBufAllocator.DEFAULT.directBuffer(400).writeBytes(heap, 0, 400));
            composite.addComponent(true, PooledByteBufAllocator.DEFAULT.directBuffer(600).writeBytes(heap, 400, 600));
            assertTrue(tun.write(direct), "one direct buffer");
            assertTrue(tun.write(heap), "a heap buffer");
            assertTrue(tun.write(composite), "a composite of two direct buffers");
            ByteBuf superSegment = OffloadTest.superSegment(IpPrefix.parse("10.77.0.2").address(),
                    IpPrefix.parse("10.77.0.1").address(), new byte[20_000], 1448);
            assertTrue(tun.offloads(), "opened with the virtio header");
            assertTrue(tun.write(superSegment), "the kernel takes a 20 KB super-segment (EINVAL if its header were bad)");
            superSegment.release();
            assertTrue(heap.refCnt() == 1 && direct.refCnt() == 1 && composite.refCnt() == 1, "the caller's still");
            heap.release();
            direct.release();
            composite.release();
        } finally {
            tun.close();
        }
        try (Interfaces ifs = new Interfaces()) {
            assertFalse(ifs.exists(name), "the device goes with its node");
        }
    }
}
