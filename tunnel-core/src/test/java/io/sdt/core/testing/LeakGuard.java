package io.sdt.core.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fails a test when Netty's leak detector (paranoid in the surefire config) reports a leaked buffer
 * during or right after it. Netty reports a leak when a tracked buffer is garbage-collected without
 * having been released; this extension forces collection after each test and then allocates, which
 * makes the detector poll its queue.
 */
public final class LeakGuard implements BeforeEachCallback, AfterEachCallback {

    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static volatile boolean installed;

    private static synchronized void install() {
        if (installed) {
            return;
        }
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        AbstractAppender appender = new AbstractAppender("leak-guard", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                String msg = event.getMessage().getFormattedMessage();
                if (msg.contains("LEAK:")) {
                    LEAKS.add(msg.length() > 4000 ? msg.substring(0, 4000) : msg);
                }
            }
        };
        appender.start();
        ctx.getConfiguration().addAppender(appender);
        ctx.getConfiguration().getRootLogger().addAppender(appender, Level.ERROR, null);
        ctx.updateLoggers();
        installed = true;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        install();
        LEAKS.clear();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        for (int i = 0; i < 3 && LEAKS.isEmpty(); i++) {
            System.gc();
            System.runFinalization();
            for (int j = 0; j < 64; j++) {
                ByteBuf a = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                ByteBuf b = UnpooledByteBufAllocator.DEFAULT.heapBuffer(16);
                a.release();
                b.release();
            }
        }
        if (!LEAKS.isEmpty()) {
            String first = LEAKS.getFirst();
            LEAKS.clear();
            fail("Netty reported a leaked buffer:\n" + first);
        }
    }
}
