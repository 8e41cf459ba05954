/**
 * Linux TUN devices through the Java 25 FFM API (no JNI of our own): open or attach a device, write
 * packets, read its address and MTU, and set its MTU, link state, addresses and routes with ioctls. Used
 * by the udp-encap-tun program (module {@code tunnel-encap}), and meant for every mode that deals in IP
 * packets. Depends on Netty's unix file descriptor and Log4j2.
 */
package io.sdt.core.tun;
