package io.sdt.core.tunnel.router.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.FrameException;
import io.sdt.codec.HostPort;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * SOCKS5 (RFC 1928) with optional username/password (RFC 1929): method selection, authentication,
 * then one CONNECT or UDP ASSOCIATE request. Messages may arrive split or pipelined.
 *
 * <ul>
 * <li>Methods: with no {@link ProxyAuth}, only 0x00 (no auth); with one, only 0x02. A client that
 *     offers neither gets 0xFF and the connection closes.</li>
 * <li>BIND (0x02) and unknown commands: REP 0x07. Unknown ATYP: REP 0x08. An empty or invalid
 *     domain name (anything {@link HostPort} rejects) and CONNECT to port 0: REP 0x01 (general
 *     failure; 0x08 would claim the address type is the problem). Each then closes.</li>
 * <li>A wrong version byte (greeting, auth or request) closes without a reply.</li>
 * </ul>
 * Confined to the socket's event loop; replies are allocated here and released by the write.
 */
final class Socks5Handshake extends Handshake {

    static final int VERSION = 5;
    static final int CMD_CONNECT = 1;
    static final int CMD_UDP_ASSOCIATE = 3;
    static final int REP_SUCCEEDED = 0x00;
    static final int REP_GENERAL = 0x01;
    static final int REP_NOT_ALLOWED = 0x02;
    static final int REP_HOST_UNREACHABLE = 0x04;
    static final int REP_REFUSED = 0x05;
    static final int REP_TTL_EXPIRED = 0x06;
    static final int REP_COMMAND_NOT_SUPPORTED = 0x07;
    static final int REP_ADDRESS_NOT_SUPPORTED = 0x08;
    private static final int METHOD_NONE = 0x00;
    private static final int METHOD_USER_PASS = 0x02;
    private static final int NO_ACCEPTABLE = 0xFF;
    private static final int AUTH_VERSION = 1;
    private static final HostPort UNSPECIFIED = new HostPort("0.0.0.0", 0);

    private enum Phase { GREETING, AUTH, REQUEST, DONE }

    private Phase phase = Phase.GREETING;

    Socks5Handshake(RouterFrontend frontend) {
        super(frontend);
    }

    @Override
    void decode(ByteBuf in) {
        boolean progress = true;
        while (progress) {
            progress = switch (phase) {
                case GREETING -> greeting(in);
                case AUTH -> auth(in);
                case REQUEST -> request(in);
                case DONE -> false;
            };
        }
    }

    private boolean greeting(ByteBuf in) {
        int r = in.readerIndex();
        if (in.readableBytes() < 2) {
            return false;
        }
        if (in.getUnsignedByte(r) != VERSION) {
            return badVersion("not SOCKS5");
        }
        int n = in.getUnsignedByte(r + 1);
        if (in.readableBytes() < 2 + n) {
            return false;
        }
        int wanted = frontend.auth() == null ? METHOD_NONE : METHOD_USER_PASS;
        boolean offered = false;
        for (int i = 0; i < n; i++) {
            offered |= in.getUnsignedByte(r + 2 + i) == wanted;
        }
        in.skipBytes(2 + n);
        if (!offered) {
            frontend.stats().authFailed();
            return finish(() -> frontend.refuse(bytes(VERSION, NO_ACCEPTABLE)));
        }
        frontend.write(bytes(VERSION, wanted));
        phase = wanted == METHOD_USER_PASS ? Phase.AUTH : Phase.REQUEST;
        return true;
    }

    private boolean auth(ByteBuf in) {
        int r = in.readerIndex();
        if (in.readableBytes() < 2) {
            return false;
        }
        if (in.getUnsignedByte(r) != AUTH_VERSION) {
            return badVersion("bad RFC 1929 version");
        }
        int ulen = in.getUnsignedByte(r + 1);
        if (in.readableBytes() < 3 + ulen) {
            return false;
        }
        int plen = in.getUnsignedByte(r + 2 + ulen);
        if (in.readableBytes() < 3 + ulen + plen) {
            return false;
        }
        byte[] user = ByteBufUtil.getBytes(in, r + 2, ulen);
        byte[] pass = ByteBufUtil.getBytes(in, r + 3 + ulen, plen);
        in.skipBytes(3 + ulen + plen);
        if (!frontend.auth().matches(user, pass)) {
            frontend.stats().authFailed();
            return finish(() -> frontend.refuse(bytes(AUTH_VERSION, 1)));
        }
        frontend.write(bytes(AUTH_VERSION, 0));
        phase = Phase.REQUEST;
        return true;
    }

    private boolean request(ByteBuf in) {
        int r = in.readerIndex();
        if (in.readableBytes() < 2) {
            return false;
        }
        if (in.getUnsignedByte(r) != VERSION) {
            return badVersion("bad SOCKS5 request version");
        }
        int cmd = in.getUnsignedByte(r + 1);
        if (cmd != CMD_CONNECT && cmd != CMD_UDP_ASSOCIATE) {
            frontend.stats().unsupportedCommand();
            return finish(() -> frontend.refuse(reply(REP_COMMAND_NOT_SUPPORTED, UNSPECIFIED)));
        }
        if (in.readableBytes() < 4) {
            return false;
        }
        int atyp = in.getUnsignedByte(r + 3);
        int addressLength;
        switch (atyp) {
            case HostPort.FAMILY_IPV4 -> addressLength = 4;
            case HostPort.FAMILY_IPV6 -> addressLength = 16;
            case HostPort.FAMILY_DOMAIN -> {
                if (in.readableBytes() < 5) {
                    return false;
                }
                addressLength = 1 + in.getUnsignedByte(r + 4);
                if (addressLength == 1) {
                    return malformed("empty domain name");
                }
            }
            default -> {
                frontend.stats().malformed();
                return finish(() -> frontend.refuse(reply(REP_ADDRESS_NOT_SUPPORTED, UNSPECIFIED)));
            }
        }
        int total = 4 + addressLength + 2;
        if (in.readableBytes() < total) {
            return false;
        }
        HostPort target;
        try {
            target = HostPort.decode(in.slice(r + 3, total - 3));
        } catch (FrameException | IllegalArgumentException e) {
            return malformed(e.getMessage());
        }
        in.skipBytes(total);
        if (cmd == CMD_UDP_ASSOCIATE) {
            return finish(() -> frontend.associate(target));
        }
        if (target.port() == 0) {
            return malformed("CONNECT to port 0");
        }
        return finish(() -> frontend.connect(target));
    }

    /** Ends the handshake with {@code last}, the one frontend call allowed to end it. */
    private boolean finish(Runnable last) {
        phase = Phase.DONE;
        last.run();
        return false;
    }

    private boolean badVersion(String why) {
        frontend.stats().malformed();
        return finish(() -> frontend.abort(why));
    }

    private boolean malformed(String why) {
        frontend.stats().malformed();
        frontend.debug(why);
        return finish(() -> frontend.refuse(reply(REP_GENERAL, UNSPECIFIED)));
    }

    @Override
    ByteBuf success(SocketAddress bound) {
        boolean inet = bound instanceof InetSocketAddress a && a.getAddress() != null;
        return reply(REP_SUCCEEDED, inet ? HostPort.of((InetSocketAddress) bound) : UNSPECIFIED);
    }

    @Override
    ByteBuf refusal(ErrorCode code) {
        return reply(replyCode(code), UNSPECIFIED);
    }

    /**
     * The REP byte for a backend failure. 0x03 (network unreachable) is never sent: {@link ErrorCode}
     * has one UNREACHABLE, which becomes 0x04.
     */
    static int replyCode(ErrorCode code) {
        return switch (code) {
            case DENIED -> REP_NOT_ALLOWED;
            case REFUSED -> REP_REFUSED;
            case UNREACHABLE -> REP_HOST_UNREACHABLE;
            case TIMEOUT -> REP_TTL_EXPIRED;
            case UNSUPPORTED -> REP_COMMAND_NOT_SUPPORTED;
            default -> REP_GENERAL;
        };
    }

    private ByteBuf reply(int rep, HostPort bound) {
        ByteBuf b = frontend.alloc().buffer(3 + bound.encodedSize());
        b.writeByte(VERSION).writeByte(rep).writeByte(0);
        bound.encode(b);
        return b;
    }

    private ByteBuf bytes(int a, int b) {
        return frontend.alloc().buffer(2).writeByte(a).writeByte(b);
    }
}
