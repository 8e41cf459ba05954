package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Frame values, type codes and error codes, without the codec. */
class FrameTest {

    @RegisterExtension
    final LeakGuard guard = new LeakGuard();

    @ParameterizedTest
    @ValueSource(ints = {0, 31, 33})
    void noncesAndProofsAreExactly32Bytes(int length) {
        byte[] bad = new byte[length];
        byte[] good = new byte[Frame.NONCE_LENGTH];
        assertThrows(IllegalArgumentException.class, () -> new Frame.Hello(1, bad));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Challenge(bad, good));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Challenge(good, bad));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Auth(bad));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Auth(null));
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, Varint.MAX_VALUE + 1})
    void idsAndWindowsMustFitAVarint(int v) {
        HostPort hp = new HostPort("a", 1);
        assertThrows(IllegalArgumentException.class, () -> new Frame.Open(v, 0, 0, false, hp));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Open(0, v, 0, false, hp));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Open(0, 0, v, false, hp));
        assertThrows(IllegalArgumentException.class, () -> new Frame.OpenOk(v, 0));
        assertThrows(IllegalArgumentException.class, () -> new Frame.OpenOk(0, v));
        assertThrows(IllegalArgumentException.class, () -> new Frame.OpenFail(v, ErrorCode.GENERAL, ""));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Window(v, 1));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Window(1, v));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Eof(v));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Close(v, ErrorCode.NONE));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Bind(v, false, hp));
        assertThrows(IllegalArgumentException.class, () -> new Frame.BindOk(v, hp));
        assertThrows(IllegalArgumentException.class, () -> new Frame.BindFail(v, ErrorCode.GENERAL, ""));
        ByteBuf payload = guard.pattern(1);
        assertThrows(IllegalArgumentException.class, () -> new Frame.Data(v, payload));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Datagram(v, payload));
        payload.release();
    }

    @Test
    void secretsAreNotPrinted() {
        byte[] proof = FrameFixtures.nonce(0xAB);
        assertEquals("Auth[proof=***]", new Frame.Auth(proof).toString());
        String challenge = new Frame.Challenge(FrameFixtures.nonce(0x10), proof).toString();
        assertFalse(challenge.contains("abacad"), challenge);
        assertEquals("Hello[version=1]", new Frame.Hello(1, proof).toString());
    }

    @Test
    void byteArrayFramesCompareByContent() {
        assertEquals(new Frame.Hello(1, FrameFixtures.nonce(1)), new Frame.Hello(1, FrameFixtures.nonce(1)));
        assertEquals(new Frame.Hello(1, FrameFixtures.nonce(1)).hashCode(),
                new Frame.Hello(1, FrameFixtures.nonce(1)).hashCode());
        assertNotEquals(new Frame.Hello(1, FrameFixtures.nonce(1)), new Frame.Hello(2, FrameFixtures.nonce(1)));
        assertEquals(new Frame.Challenge(FrameFixtures.nonce(1), FrameFixtures.nonce(2)),
                new Frame.Challenge(FrameFixtures.nonce(1), FrameFixtures.nonce(2)));
        assertNotEquals(new Frame.Challenge(FrameFixtures.nonce(1), FrameFixtures.nonce(2)),
                new Frame.Challenge(FrameFixtures.nonce(2), FrameFixtures.nonce(1)));
        assertEquals(new Frame.Auth(FrameFixtures.nonce(1)), new Frame.Auth(FrameFixtures.nonce(1)));
        assertNotEquals(new Frame.Auth(FrameFixtures.nonce(1)), new Frame.Auth(FrameFixtures.nonce(3)));
    }

    @Test
    void typeCodesAreUniqueAndChannelFramesStartAt0x10() {
        Set<Integer> codes = new HashSet<>();
        for (FrameType t : FrameType.values()) {
            assertTrue(codes.add(t.code()), t.name());
            assertSame(t, FrameType.of(t.code()));
            assertEquals(t.code() >= 0x10, t.hasChannel(), t.name());
        }
        assertNull(FrameType.of(0));
        assertNull(FrameType.of(0x0D));
        assertNull(FrameType.of(0x1A));
        assertNull(FrameType.of(0xFF));
    }

    @ParameterizedTest
    @EnumSource(ErrorCode.class)
    void errorCodesMapBothWays(ErrorCode code) {
        assertSame(code, ErrorCode.of(code.code()));
    }

    @Test
    void unknownErrorCodesAreGeneral() {
        assertEquals(13, ErrorCode.values().length);
        for (int c = 13; c < 256; c++) {
            assertSame(ErrorCode.GENERAL, ErrorCode.of(c));
        }
        assertSame(ErrorCode.GENERAL, ErrorCode.of(-1));
    }

    @Test
    void exceptionCarriesReason() {
        FrameException e = new FrameException(FrameException.Reason.TOO_LONG, "big");
        assertSame(FrameException.Reason.TOO_LONG, e.reason());
        assertEquals("TOO_LONG: big", e.getMessage());
    }
}
