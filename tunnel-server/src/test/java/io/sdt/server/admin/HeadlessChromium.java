package io.sdt.server.admin;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium driven over its DevTools protocol (the protocol chromedriver and Playwright
 * speak to it), with the JDK's WebSocket client: opens pages, evaluates script in them, sets request
 * headers, collects console errors, uncaught exceptions and failed loads, and takes screenshots. Every wait
 * is bounded; {@link #close()} ends the browser it started and removes its profile.
 */
final class HeadlessChromium implements AutoCloseable {

    static final Path BINARY = Path.of("/usr/bin/chromium");
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");

    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, CompletableFuture<Map<String, Object>>> pending = new ConcurrentHashMap<>();
    private final List<Map<String, Object>> events = new CopyOnWriteArrayList<>();
    private final List<String> stderr = new CopyOnWriteArrayList<>();

    static boolean available() {
        return Files.isExecutable(BINARY);
    }

    HeadlessChromium() throws Exception {
        profile = Files.createTempDirectory("sdt-chromium-");
        // as root Chromium needs --no-sandbox; the background-networking flags keep it off the (closed) network
        process = new ProcessBuilder(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio",
                "--window-size=1280,900", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                "--user-data-dir=" + profile, "about:blank").redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        CompletableFuture<String> endpoint = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("chromium-stderr").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    stderr.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        endpoint.complete(m.group(1));
                    }
                }
            } catch (IOException ignored) {
                // the browser went away
            }
            endpoint.completeExceptionally(new IOException("chromium ended before it listened: " + stderr));
        });
        String url;
        try {
            url = endpoint.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            close();
            throw e;
        }
        socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create(url), new Listener()).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    /** One tab. */
    final class Page {
        private final String session;

        private Page(String session) {
            this.session = session;
        }

        /** Loads {@code url} and waits for its load event. */
        void navigate(String url) throws Exception {
            int before = events.size();
            call("Page.navigate", Map.of("url", url), session);
            await("the load event of " + url, e -> "Page.loadEventFired".equals(e.get("method"))
                    && session.equals(e.get("sessionId")), before);
        }

        /** Every request of this tab carries these headers from now on. */
        void headers(Map<String, String> headers) throws Exception {
            call("Network.setExtraHTTPHeaders", Map.of("headers", headers), session);
        }

        /** The value of a script expression (JSON-like: strings, numbers, booleans, lists, maps, null). */
        Object evaluate(String expression) throws Exception {
            Map<String, Object> r = call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true,
                    "awaitPromise", true), session);
            @SuppressWarnings("unchecked")
            Map<String, Object> result = (Map<String, Object>) r.get("result");
            if (r.containsKey("exceptionDetails")) {
                throw new AssertionError("script failed: " + expression + ": " + r.get("exceptionDetails"));
            }
            return result.get("value");
        }

        /**
         * Waits until {@code expression} is true in the page (bounded); false on timeout. The page itself waits:
         * it checks at once and again at every change of the document (a MutationObserver), so the test wakes
         * when the dashboard redraws, not on a timer of its own.
         */
        boolean waitFor(String expression, Duration timeout) throws Exception {
            String js = "new Promise(resolve => {"
                    + " const test = () => { try { return !!(" + expression + "); } catch (e) { return false; } };"
                    + " if (test()) { resolve(true); return; }"
                    + " const seen = new MutationObserver(() => { if (test()) { seen.disconnect(); clearTimeout(t);"
                    + " resolve(true); } });"
                    + " const t = setTimeout(() => { seen.disconnect(); resolve(test()); }, " + timeout.toMillis() + ");"
                    + " seen.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});"
                    + " })";
            return Boolean.TRUE.equals(evaluate(js));
        }

        void screenshot(Path file) throws Exception {
            Map<String, Object> r = call("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true),
                    session);
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.write(file, Base64.getDecoder().decode((String) r.get("data")));
        }

        /** The HTTP status of every response this tab received, as "STATUS URL". */
        List<String> responses() {
            List<String> out = new ArrayList<>();
            for (Map<String, Object> e : events) {
                if (session.equals(e.get("sessionId")) && "Network.responseReceived".equals(e.get("method"))) {
                    Map<?, ?> r = (Map<?, ?>) ((Map<?, ?>) e.get("params")).get("response");
                    out.add(r.get("status") + " " + r.get("url"));
                }
            }
            return out;
        }

        /** Console errors, uncaught exceptions and failed loads (a 404, a blocked script) of this tab. */
        List<String> errors() {
            List<String> out = new ArrayList<>();
            for (Map<String, Object> e : events) {
                if (!session.equals(e.get("sessionId"))) {
                    continue;
                }
                Map<?, ?> p = (Map<?, ?>) e.get("params");
                switch (String.valueOf(e.get("method"))) {
                    case "Runtime.consoleAPICalled" -> {
                        if ("error".equals(p.get("type")) || "assert".equals(p.get("type"))) {
                            out.add("console." + p.get("type") + ": " + p.get("args"));
                        }
                    }
                    case "Runtime.exceptionThrown" -> out.add("exception: " + p.get("exceptionDetails"));
                    case "Log.entryAdded" -> {
                        Map<?, ?> entry = (Map<?, ?>) p.get("entry");
                        if ("error".equals(entry.get("level"))) {
                            out.add("log: " + entry.get("text") + " " + entry.get("url"));
                        }
                    }
                    default -> { }
                }
            }
            return out;
        }
    }

    /** A new tab with its console, log, network and page events on. */
    Page open() throws Exception {
        String target = (String) call("Target.createTarget", Map.of("url", "about:blank"), null).get("targetId");
        String session = (String) call("Target.attachToTarget", Map.of("targetId", target, "flatten", true), null)
                .get("sessionId");
        for (String domain : List.of("Page", "Runtime", "Log", "Network")) {
            call(domain + ".enable", Map.of(), session);
        }
        return new Page(session);
    }

    private Map<String, Object> call(String method, Map<String, ?> params, String session) throws Exception {
        long id = ids.incrementAndGet();
        CompletableFuture<Map<String, Object>> answer = new CompletableFuture<>();
        pending.put(id, answer);
        StringBuilder b = new StringBuilder("{\"id\":").append(id).append(",\"method\":");
        TunnelsJson.string(b, method).append(",\"params\":");
        json(b, params);
        if (session != null) {
            TunnelsJson.string(b.append(",\"sessionId\":"), session);
        }
        socket.sendText(b.append('}').toString(), true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        Map<String, Object> reply = answer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        if (reply.containsKey("error")) {
            throw new IOException(method + " failed: " + reply.get("error"));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> result = (Map<String, Object>) reply.getOrDefault("result", Map.of());
        return result;
    }

    /** Waits (bounded) for an event from {@code from} on that {@code event} accepts; the listener wakes it. */
    private void await(String what, Predicate<Map<String, Object>> event, int from) throws InterruptedException {
        long end = System.nanoTime() + WAIT.toNanos();
        synchronized (events) {
            while (true) {
                for (int i = from; i < events.size(); i++) {
                    if (event.test(events.get(i))) {
                        return;
                    }
                }
                from = events.size();
                long left = end - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no " + what + " within " + WAIT.toSeconds() + " s");
                }
                events.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    private static void json(StringBuilder b, Object v) {
        switch (v) {
            case null -> b.append("null");
            case String s -> TunnelsJson.string(b, s);
            case Number n -> b.append(n);
            case Boolean bool -> b.append(bool);
            case Map<?, ?> m -> {
                b.append('{');
                int i = 0;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    TunnelsJson.string(b.append(i++ == 0 ? "" : ","), (String) e.getKey()).append(':');
                    json(b, e.getValue());
                }
                b.append('}');
            }
            default -> throw new IllegalArgumentException("not JSON: " + v.getClass());
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) Json.parse(text.toString());
                text.setLength(0);
                if (m.get("id") instanceof Long id) {
                    CompletableFuture<Map<String, Object>> f = pending.remove(id);
                    if (f != null) {
                        f.complete(m);
                    }
                } else {
                    synchronized (events) {
                        events.add(m);
                        events.notifyAll();
                    }
                }
            }
            ws.request(1);
            return null;
        }
    }

    @Override
    public void close() throws Exception {
        try {
            if (socket != null) {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
            }
        } catch (Exception ignored) {
            // the browser is ended below either way
        } finally {
            // its renderer and GPU helpers are its children: they go with it, but make sure
            List<ProcessHandle> helpers = process.descendants().toList();
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            helpers.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
