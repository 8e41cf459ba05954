package io.sdt.core.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import reactor.blockhound.BlockHound;
import reactor.blockhound.BlockingMethod;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fails a test during which code running on a Netty event-loop thread made a blocking call
 * ({@code Thread.sleep}, {@code Object.wait}, a parked lock, blocking socket or file I/O...). BlockHound
 * instruments the JDK's blocking methods once per JVM (it needs {@code -XX:+AllowRedefinitionToAddDeleteMethods},
 * set in the surefire configuration) and Netty's own integration marks its event-loop threads as
 * non-blocking and allows its internal waits. Calls are recorded, not thrown, so the code under test
 * behaves as it would in production; the test fails afterwards, naming the thread and the stack.
 *
 * <p>Allowed on purpose: the diagnostic log's synchronous write to stderr (Log4j2's console appender),
 * which a node does a bounded number of times per connection, never per packet; Netty's pooled
 * allocator waiting on its own magazine lock while it retires a magazine; and the io_uring event
 * loop's own spin for its wakeup descriptor at shutdown.
 */
public final class BlockingGuard implements BeforeEachCallback, AfterEachCallback {

    private static final List<String> CALLS = new CopyOnWriteArrayList<>();
    private static volatile boolean installed;

    private static synchronized void install() {
        if (installed) {
            return;
        }
        // install(...) also applies the integrations found by ServiceLoader, Netty's among them, which
        // mark its event-loop threads as non-blocking; builder().install() alone would watch no thread
        BlockHound.install(builder -> builder
                .allowBlockingCallsInside("org.apache.logging.log4j.core.appender.OutputStreamManager", "flushBuffer")
                .allowBlockingCallsInside("org.apache.logging.log4j.core.appender.OutputStreamManager", "writeBytes")
                .allowBlockingCallsInside("org.apache.logging.log4j.core.appender.OutputStreamManager", "flush")
                // Netty's pooled allocator retiring a magazine waits for the short write lock of an allocation
                // under way on another thread (a few instructions, no I/O); Netty's own integration predates it
                .allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free")
                .allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "free")
                // Netty's io_uring loop spins (Thread.onSpinWait) for its wakeup eventfd while it shuts down
                .allowBlockingCallsInside("io.netty.channel.uring.IoUringIoHandler", "closeWakeupGate")
                .blockingMethodCallback(BlockingGuard::record));
        installed = true;
    }

    private static void record(BlockingMethod method) {
        StringBuilder b = new StringBuilder("blocking call ").append(method).append(" on ")
                .append(Thread.currentThread().getName());
        for (StackTraceElement e : new Throwable().getStackTrace()) {
            b.append("\n\tat ").append(e);
        }
        CALLS.add(b.toString());
    }

    /** The calls recorded since the last test began, which the guard then forgets (for its own test). */
    public static List<String> takeCalls() {
        List<String> calls = List.copyOf(CALLS);
        CALLS.clear();
        return calls;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        install();
        CALLS.clear();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (!CALLS.isEmpty()) {
            List<String> calls = List.copyOf(CALLS);
            CALLS.clear();
            fail(calls.size() + " blocking call(s) on an event loop during " + context.getDisplayName() + ":\n"
                    + String.join("\n", calls));
        }
    }
}
