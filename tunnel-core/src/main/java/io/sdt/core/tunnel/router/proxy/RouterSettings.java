package io.sdt.core.tunnel.router.proxy;

import io.netty.channel.socket.DatagramChannel;

import java.time.Duration;
import java.util.Objects;

/**
 * What a {@link RouterFrontend} needs to know, validated once.
 *
 * @param auth             the credentials customers must give, or {@code null} for none
 * @param handshakeTimeout how long a customer has from connecting to a complete request
 * @param datagramChannel  the datagram channel class of the control sockets' transport
 *                         ({@code Transport.datagramChannel()}), for UDP associations
 */
public record RouterSettings(ProxyAuth auth, Duration handshakeTimeout,
                             Class<? extends DatagramChannel> datagramChannel) {

    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    public RouterSettings {
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        Objects.requireNonNull(datagramChannel, "datagramChannel");
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshake timeout must be positive: " + handshakeTimeout);
        }
    }

    /** Settings with the default handshake timeout of 10 s. */
    public static RouterSettings of(ProxyAuth auth, Class<? extends DatagramChannel> datagramChannel) {
        return new RouterSettings(auth, DEFAULT_HANDSHAKE_TIMEOUT, datagramChannel);
    }
}
