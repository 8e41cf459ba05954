package io.sdt.server.admin;

import io.sdt.codec.HostPort;
import io.sdt.core.SdtClient;
import io.sdt.core.SdtServer;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Targets;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard in a real headless Chromium (Debian's {@code chromium}, which {@code .ci/run} installs):
 * it loads without a console error, lists the running tunnel, its byte counter moves when traffic goes
 * through, the server's page shows the link and the audit event, and with a token the page needs it.
 * Screenshots land in {@code target/dashboard/}.
 */
@ExtendWith(LeakGuard.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DashboardBrowserIT {

    private static final Path SHOTS = Path.of("target", "dashboard");
    private static final Duration UI = Duration.ofSeconds(20);
    private final Transport transport = Transport.select("auto");

    @BeforeAll
    static void chromium() {
        assumeTrue(HeadlessChromium.available(), HeadlessChromium.BINARY
                + " is missing: install the Debian package chromium (.ci/run does)");
    }

    /** Sends {@code bytes} through {@code at} to an echo target and reads them all back. */
    private static void traffic(InetSocketAddress at, int bytes) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(at, 5000);
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] chunk = new byte[16 * 1024];
            int sent = 0;
            int read = 0;
            while (sent < bytes) {
                out.write(chunk);
                sent += chunk.length;
                while (read < sent - 64 * 1024) { // keep the echo's way back moving
                    read += Math.max(0, in.read(chunk, 0, Math.min(chunk.length, sent - read)));
                }
            }
            s.shutdownOutput();
            while (read < sent) {
                int n = in.read(chunk);
                if (n < 0) {
                    break;
                }
                read += n;
            }
            assertEquals(sent, read, "the echo sent everything back");
        }
    }

    private static long bytes(HeadlessChromium.Page page, String cell) throws Exception {
        Object v = page.evaluate("(document.querySelector('#tunnels tr[data-tunnel] td." + cell + "') || {dataset: {}})"
                + ".dataset.bytes || '-1'");
        return Long.parseLong((String) v);
    }

    @Test
    void thePageListsTheTunnelAndItsBytesMoveWithTraffic() throws Exception {
        try (Nodes nodes = new Nodes(transport); Admins admins = new Admins(transport); Targets echo = Targets.echo();
             HeadlessChromium chromium = new HeadlessChromium()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()));
            String spec = "127.0.0.1:0:127.0.0.1:" + echo.port();
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, spec));
            InetSocketAddress clientAdmin = admins.start(NodeView.of(client));
            InetSocketAddress serverAdmin = admins.start(NodeView.of(server));

            HeadlessChromium.Page page = chromium.open();
            page.navigate("http://127.0.0.1:" + clientAdmin.getPort() + "/");
            assertTrue(page.waitFor("document.querySelectorAll('#tunnels tr[data-tunnel]').length === 1", UI),
                    "the tunnel is listed");
            assertEquals(spec, page.evaluate("document.querySelector('#tunnels tr[data-tunnel]').dataset.tunnel"));
            assertEquals("client", page.evaluate("document.getElementById('role').textContent"));
            assertEquals("ok", page.evaluate("document.getElementById('health').textContent"));
            assertEquals(1L, page.evaluate("document.querySelectorAll('#links tbody tr').length"));
            assertTrue(page.waitFor("document.querySelector('#links span.up') !== null", UI), "the link shows up");
            long before = bytes(page, "bytes-to");
            assertEquals(0, before, "nothing went through yet");

            int sent = 3 << 20;
            traffic(client.tunnels().get(0).boundAddress(), sent);
            assertTrue(page.waitFor("Number(document.querySelector('#tunnels tr[data-tunnel] td.bytes-to')"
                    + ".dataset.bytes) >= " + sent, UI), "the page's counter moved: " + bytes(page, "bytes-to"));
            assertEquals(sent, bytes(page, "bytes-to"), "to the link: what the customer sent");
            assertTrue(page.waitFor("Number(document.querySelector('#tunnels tr[data-tunnel] td.bytes-from')"
                    + ".dataset.bytes) === " + sent, UI), "from the link: the echo");
            // the chart has points once two samples are in
            assertTrue(page.waitFor("document.getElementById('node-to').textContent.includes('MiB')", UI),
                    "node totals shown");
            page.screenshot(SHOTS.resolve("client.png"));
            assertEquals(List.of(), page.errors(), "no console errors, exceptions or failed loads");

            HeadlessChromium.Page serverPage = chromium.open();
            serverPage.navigate("http://127.0.0.1:" + serverAdmin.getPort() + "/");
            assertTrue(serverPage.waitFor("document.getElementById('role').textContent === 'server'", UI));
            assertTrue(serverPage.waitFor("[...document.querySelectorAll('#events tbody tr')].some(r => "
                    + "r.textContent.includes('127.0.0.1:" + echo.port() + "') && r.textContent.includes('allowed'))", UI),
                    "the audit event of the channel is listed");
            assertEquals(1L, serverPage.evaluate("document.querySelectorAll('#links tbody tr').length"));
            // the filter narrows the list to nothing, then back
            serverPage.evaluate("(() => { const q = document.getElementById('q'); q.value = 'no-such-target';"
                    + " q.dispatchEvent(new Event('input')); return true; })()");
            assertTrue(serverPage.waitFor("document.querySelectorAll('#events tbody tr').length === 0", UI),
                    "the filter applies");
            serverPage.screenshot(SHOTS.resolve("server.png"));
            assertEquals(List.of(), serverPage.errors(), "no console errors on the server's page");
        }
    }

    @Test
    void withATokenThePageNeedsIt() throws Exception {
        String token = "dash-" + Long.toHexString(System.nanoTime());
        try (Nodes nodes = new Nodes(transport); HeadlessChromium chromium = new HeadlessChromium()) {
            SdtServer server = nodes.server(b -> { });
            AdminServer admin = new AdminServer(new HostPort("127.0.0.1", 0), transport, NodeView.of(server), token);
            try {
                String url = "http://127.0.0.1:" + admin.start().getPort() + "/";
                HeadlessChromium.Page without = chromium.open();
                without.navigate(url);
                assertEquals(List.of("401 " + url), without.responses(), "the page is refused, nothing else is loaded");
                assertEquals(0L, without.evaluate("document.querySelectorAll('#tunnels').length"), "no dashboard");

                HeadlessChromium.Page with = chromium.open();
                with.headers(Map.of("Authorization", "Bearer " + token));
                with.navigate(url);
                assertTrue(with.waitFor("document.getElementById('health').textContent === 'ok'", UI),
                        "the page and its API calls carry the token");
                assertTrue(with.waitFor("document.getElementById('role').textContent === 'server'", UI));
                assertEquals(Boolean.TRUE, with.evaluate("document.getElementById('error').hidden"),
                        "no call was refused");
                with.screenshot(SHOTS.resolve("token.png"));
                assertEquals(List.of(), with.errors());
            } finally {
                admin.close();
            }
        }
    }
}
