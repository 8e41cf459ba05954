package io.sdt.encap;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.SocketProtocolFamily;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** SO_BINDTODEVICE on a real epoll socket. Needs root; skipped otherwise. */
class BindToDeviceTest {

    @Test
    void bindToDeviceReachesTheSocket() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root (CAP_NET_RAW) for SO_BINDTODEVICE");
        assumeTrue(Epoll.isAvailable(), "epoll unavailable");
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Channel ch = new Bootstrap().group(group)
                    .channelFactory(() -> new EpollDatagramChannel(SocketProtocolFamily.INET))
                    .option(BindToDevice.OPTION, BindToDevice.value("lo"))
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            ByteBuffer v = ch.config().getOption(BindToDevice.OPTION);
            assertEquals("lo", BindToDevice.name(v));
            ch.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

}
