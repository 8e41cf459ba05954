package io.sdt.core.tunnel.stream;

import io.netty.channel.ConnectTimeoutException;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.HostPort;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Why a connect failed, in the terms OPEN_FAIL carries (the ingress maps them to SOCKS5 replies and HTTP statuses). */
class ConnectorTest {

    @Test
    void eachConnectFailureHasItsCode() {
        assertEquals(ErrorCode.TIMEOUT, Connector.errorCode(new ConnectTimeoutException("timed out")));
        assertEquals(ErrorCode.REFUSED, Connector.errorCode(new ConnectException("Connection refused")));
        assertEquals(ErrorCode.UNREACHABLE, Connector.errorCode(new NoRouteToHostException("no route")));
        assertEquals(ErrorCode.UNREACHABLE, Connector.errorCode(new UnknownHostException("nowhere.invalid")));
        assertEquals(ErrorCode.GENERAL, Connector.errorCode(new IOException("something else")));
    }

    @Test
    void theMessageNamesTheTargetAndTheCause() {
        HostPort t = new HostPort("db.internal", 5432);
        assertEquals("connect to db.internal:5432 failed: Connection refused",
                Connector.message(t, new ConnectException("Connection refused")));
        assertEquals("connect to db.internal:5432 failed: ConnectException",
                Connector.message(t, new ConnectException()));
    }
}
