package io.sdt.server;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import sun.misc.Signal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a node until SIGTERM or SIGINT, then shuts it down gracefully (stop accepting, close channels)
 * and returns exit code 0. A fatal failure of the node (authentication) returns 1.
 */
final class Signals {

    private static final Logger log = LogManager.getLogger(Signals.class);

    private Signals() {
    }

    interface Starter {
        Object start() throws Exception;
    }

    static int runUntilTerminated(Starter start, Runnable stop, CompletableFuture<Void> fatal) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        String[] received = new String[1];
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), sig -> {
                received[0] = "SIG" + sig.getName();
                done.countDown();
            });
        }
        Throwable[] failure = new Throwable[1];
        if (fatal != null) {
            fatal.whenComplete((v, e) -> {
                failure[0] = e;
                done.countDown();
            });
        }
        try {
            start.start();
        } catch (IllegalStateException e) {
            stop.run();
            throw e;
        }
        done.await();
        if (received[0] != null) {
            log.info("{} received; shutting down", received[0]);
        }
        stop.run();
        if (failure[0] != null) {
            System.err.println("sdt: error: " + failure[0].getMessage());
            return Main.EXIT_FAILURE;
        }
        return 0;
    }
}
