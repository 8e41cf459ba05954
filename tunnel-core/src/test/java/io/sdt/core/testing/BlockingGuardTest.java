package io.sdt.core.testing;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.apache.logging.log4j.LogManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The guard itself: it sees a blocking call on an event loop, and only there. */
class BlockingGuardTest {

    private static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @AfterAll
    static void stop() throws InterruptedException {
        GROUP.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    @Test
    void aSleepOnAnEventLoopIsCaughtWithItsStack() throws Exception {
        GROUP.next().submit(() -> {
            Thread.sleep(1);
            return null;
        }).sync();
        List<String> calls = BlockingGuard.takeCalls();
        assertEquals(1, calls.size(), calls.toString());
        assertTrue(calls.getFirst().contains("sleep"), calls.getFirst());
        assertTrue(calls.getFirst().contains("BlockingGuardTest"), "the stack names the caller: " + calls.getFirst());
    }

    @Test
    void aSleepOnAnyOtherThreadIsFine() throws Exception {
        Thread.sleep(1);
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t.start();
        t.join();
        assertEquals(List.of(), BlockingGuard.takeCalls());
    }

    @Test
    void theDiagnosticLogMayWriteFromAnEventLoop() throws Exception {
        GROUP.next().submit(() -> LogManager.getLogger(BlockingGuardTest.class)
                .warn("a warning written to stderr from an event loop (expected in this test)")).sync();
        assertEquals(List.of(), BlockingGuard.takeCalls());
    }
}
