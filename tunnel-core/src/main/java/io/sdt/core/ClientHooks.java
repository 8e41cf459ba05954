package io.sdt.core;

import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkHooks;
import io.sdt.core.policy.AuditLog;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.push.PushEgress;
import io.sdt.core.tunnel.tcp.StreamChannel;
import io.sdt.core.tunnel.udp.UdpEgress;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * What a client does with its server's requests: asks for its remote listeners when a link comes
 * up, and performs the egress of the channels the server opens for them, towards the targets the
 * client itself configured (never an address the server names). Runs on the link's event loop.
 */
final class ClientHooks implements LinkHooks {

    private static final Logger log = LogManager.getLogger(ClientHooks.class);

    private final SdtClient client;

    ClientHooks(SdtClient client) {
        this.client = client;
    }


        @Override
        public void onUp(Link up) {
            if (client.draining()) {
                return;
            }
            for (Tunnel t : client.tunnels()) {
                if (t.spec().direction() == TunnelSpec.Direction.REMOTE) {
                    up.write(client.bindFrame(t));
                }
            }
            up.flush();
        }

        @Override
        public void onOpen(Link up, Frame.Open open) {
            if (client.draining()) {
                up.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.REFUSED, "client is shutting down"));
                return;
            }
            Tunnel t = client.tunnel(open.tunnelId());
            if (t != null && t.spec().dynamic() && t.spec().direction() == TunnelSpec.Direction.REMOTE && !open.push()) {
                openDynamic(up, open);
                return;
            }
            if (t == null || t.spec().direction() != TunnelSpec.Direction.REMOTE || open.udp() != t.spec().udp()
                    || open.push() != t.spec().push() || t.spec().dynamic()) {
                client.stats().openDenied();
                log.warn("{}: the server opened channel {} for unknown remote tunnel {}; refused", up, open.channel(),
                        open.tunnelId());
                up.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.UNKNOWN_TUNNEL,
                        "no remote tunnel " + open.tunnelId() + " on this client"));
                return;
            }
            AuditLog.configuredOpen(up, open, t.spec().target());
            if (t.spec().udp()) {
                UdpEgress.open(up, open, t.spec().target(), client.outbound());
            } else if (t.spec().push()) {
                PushEgress.open(up, open, t.spec().target(), client.outbound(), t.spec().spoolMax());
            } else {
                StreamChannel.egress(up, open, t.spec().target(), client.outbound());
            }
        }

        /**
         * A channel of a reverse dynamic tunnel: its target is whatever the server's customer asked
         * for, so this client's own --allow-target policy decides, as the server's does for -D.
         */
        private void openDynamic(Link up, Frame.Open open) {
            var rule = client.exitPolicy().match(open.target());
            AuditLog.channelOpen(up, open, open.target(), rule);
            if (rule.isEmpty()) {
                client.stats().openDenied();
                log.warn("{}: channel {} to {} denied: no --allow-target rule matches", up, open.channel(), open.target());
                up.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.DENIED,
                        "target " + open.target() + " is not allowed by the client's policy (--allow-target)"));
                return;
            }
            if (open.udp()) {
                UdpEgress.open(up, open, open.target(), client.outbound());
            } else {
                StreamChannel.egress(up, open, open.target(), client.outbound());
            }
        }

        @Override
        public void onBindOk(Link up, Frame.BindOk ok) {
            Tunnel t = client.tunnel(ok.tunnelId());
            if (t == null && client.issued(ok.tunnelId())) {
                log.debug("{}: BIND_OK for removed tunnel #{}", up, ok.tunnelId()); // UNBIND is on its way
                return;
            }
            if (t == null) {
                up.protocolViolation("BIND_OK for unknown tunnel " + ok.tunnelId());
                return;
            }
            log.info("tunnel {} listening on {}", t.spec().label(), ok.bound());
            t.bound(ok.bound().toSocketAddress());
        }

        @Override
        public void onBindFail(Link up, Frame.BindFail fail) {
            Tunnel t = client.tunnel(fail.tunnelId());
            if (t == null && client.issued(fail.tunnelId())) {
                return;
            }
            if (t == null) {
                up.protocolViolation("BIND_FAIL for unknown tunnel " + fail.tunnelId());
                return;
            }
            log.error("tunnel {}: the server refused the remote listener: {}", t.spec().label(), fail.message());
            t.failed(fail.message());
        }
}
