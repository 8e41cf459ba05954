package io.sdt.encap;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;

/**
 * Opens the client's authentication connections: TCP from listen-port (so the server sees the same source
 * port as our UDP), bound to the bind device, to (destination, endpoint-port), running
 * {@link ClientAuthHandler}. {@code SO_REUSEADDR} lets several such connections (to different servers)
 * share the port. Runs on the engine's event loop; futures complete there.
 */
final class ClientAuthenticator implements ClientPeers.Authenticator {

    static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final EventLoop loop;
    private final EncapConfig config;
    private final SecureRandom random;

    ClientAuthenticator(EventLoop loop, EncapConfig config, SecureRandom random) {
        this.loop = loop;
        this.config = config;
        this.random = random;
    }

    @Override
    public Future<Void> authenticate(InetSocketAddress server) {
        Promise<Void> result = loop.newPromise();
        new Bootstrap().group(loop)
                .channelFactory(() -> new EpollSocketChannel(SocketProtocolFamily.INET))
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) TIMEOUT.toMillis())
                .option(BindToDevice.OPTION, BindToDevice.value(config.bindDevice()))
                .handler(new ClientAuthHandler(config.secret(), result, random, TIMEOUT))
                .connect(server, new InetSocketAddress(Ipv4.toAddress(0), config.listenPort()))
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        result.tryFailure(new ClientAuthHandler.AuthFailure("cannot connect to " + server + ": "
                                + f.cause().getMessage()));
                    }
                });
        return result;
    }
}
