package io.sdt.core;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import io.sdt.core.tunnel.TunnelMode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The package structure that the {@code package-info.java} files and docs/ARCHITECTURE.md state, checked
 * against the compiled classes (calls and field types count, not only imports): which core package may
 * use which, no cycles, and mode implementations known to the registry alone. A change that breaks one
 * of these either fixes the code or changes the documented architecture, on purpose.
 */
class ArchitectureTest {

    private static final String CORE = "io.sdt.core";
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages(CORE);

    /** The {@code io.sdt} packages each core package may use, besides itself (none: the JDK and libraries only). */
    private static ArchRule onlyUses(String pkg, String... allowed) {
        List<String> ok = new ArrayList<>(List.of(allowed));
        ok.add(pkg);
        return classes().that().resideInAPackage(pkg).should().onlyDependOnClassesThat(
                resideOutsideOfPackage("io.sdt..").or(resideInAnyPackage(ok.toArray(String[]::new))))
                .because("package-info.java of " + pkg + " says so");
    }

    @Test
    void theImportSawTheCore() {
        assertTrue(CLASSES.contain(SdtServer.class));
        assertTrue(CLASSES.contain(TunnelMode.class));
    }

    @Test
    void leavesDependOnNothingOfOurs() {
        onlyUses("io.sdt.core.metrics").check(CLASSES);
        onlyUses("io.sdt.core.secret").check(CLASSES);
        onlyUses("io.sdt.core.transport").check(CLASSES);
        onlyUses("io.sdt.core.tun").check(CLASSES);
    }

    @Test
    void policyAndTheRoutersFrontEndKnowOnlyTheCodec() {
        onlyUses("io.sdt.core.policy", "io.sdt.codec").check(CLASSES);
        onlyUses("io.sdt.core.tunnel.router.proxy", "io.sdt.codec").check(CLASSES);
    }

    @Test
    void theDurableSpoolKnowsOnlyTheJdk() {
        onlyUses("io.sdt.core.tunnel.push.spool").check(CLASSES);
    }

    @Test
    void relpKnowsNothingOfOurs() {
        onlyUses("io.sdt.core.tunnel.push.relp").check(CLASSES);
    }

    @Test
    void theLinkKnowsNoTunnelNoPolicyAndNoNode() {
        onlyUses("io.sdt.core.link", "io.sdt.codec", "io.sdt.core.metrics", "io.sdt.core.secret").check(CLASSES);
    }

    @Test
    void whatModesShareKnowsNoMode() {
        String[] base = {"io.sdt.codec", "io.sdt.core.link", "io.sdt.core.metrics", "io.sdt.core.transport"};
        onlyUses("io.sdt.core.tunnel", concat(base, "io.sdt.core.tunnel.router.proxy")).check(CLASSES);
        onlyUses("io.sdt.core.tunnel.stream", concat(base, "io.sdt.core.tunnel")).check(CLASSES);
        onlyUses("io.sdt.core.tunnel.datagram", concat(base, "io.sdt.core.tunnel")).check(CLASSES);
    }

    @Test
    void eachModeUsesWhatModesShareButNoOtherMode() {
        String[] base = {"io.sdt.codec", "io.sdt.core.link", "io.sdt.core.metrics", "io.sdt.core.transport",
                "io.sdt.core.tunnel"};
        onlyUses("io.sdt.core.tunnel.forward",
                concat(base, "io.sdt.core.tunnel.stream", "io.sdt.core.tunnel.datagram")).check(CLASSES);
        onlyUses("io.sdt.core.tunnel.push", concat(base, "io.sdt.core.tunnel.datagram", "io.sdt.core.tunnel.push.spool",
                "io.sdt.core.tunnel.push.relp"))
                .check(CLASSES);
        onlyUses("io.sdt.core.tunnel.router", concat(base, "io.sdt.core.tunnel.stream",
                "io.sdt.core.tunnel.datagram", "io.sdt.core.tunnel.router.proxy")).check(CLASSES);
        // the VPN carries IP packets between TUN devices: the link and the device, no other mode, no sockets
        onlyUses("io.sdt.core.tunnel.vpn", "io.sdt.codec", "io.sdt.core.link", "io.sdt.core.tun").check(CLASSES);
    }

    @Test
    void onlyTheRegistryNamesAModesImplementation() {
        noClasses().that().doNotHaveFullyQualifiedName(TunnelModes.class.getName())
                .should().dependOnClassesThat().implement(TunnelMode.class)
                .because("a node asks TunnelModes for a mode's implementation; a new mode is one registration")
                .check(CLASSES);
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.sdt.core.(*)..").should().beFreeOfCycles().check(CLASSES);
        slices().matching("io.sdt.core.tunnel.(*)..").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void hooksNeverSeeTheNodeThatOwnsThem() {
        noClasses().that().haveSimpleNameEndingWith("Hooks").or().haveSimpleName("Dialer")
                .or().haveSimpleName("ClientTunnels")
                .should().dependOnClassesThat().haveNameMatching("io\\.sdt\\.core\\.Sdt(Client|Server)(\\$.*)?")
                .because("collaborators get a narrow context, so arrows point one way")
                .allowEmptyShould(false)
                .check(CLASSES);
    }

    private static String[] concat(String[] a, String... b) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        return all.toArray(String[]::new);
    }
}
