package io.sdt.server;

import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The offline check of the Kubernetes manifests in deploy/kubernetes (no cluster, no schema download is
 * possible in CI): every document parses; its kind is one of the few used, with its apiVersion; a
 * Deployment's selector matches its pod labels, every volume mount names a volume, every probe and
 * Service names a port the containers have, every Service selects a Deployment's pods; and the args of
 * every sdt container are parsed by sdt's own command line (picocli, tunnel specs included), so a flag
 * that does not exist or a bad -L fails here rather than in a crash-looping pod.
 */
class DeployManifestsTest {

    private static final Path DIR = Path.of("..", "deploy", "kubernetes");
    private static final Map<String, String> API = Map.of("Deployment", "apps/v1", "Service", "v1");

    @Test
    void everyManifestHoldsTogetherAndItsSdtArgsAreValidFlags() throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                for (Object d : new Load(LoadSettings.builder().build()).loadAllFromString(Files.readString(f))) {
                    if (d != null) {
                        docs.add(map(d, f.getFileName().toString()));
                    }
                }
            }
        }
        assertTrue(docs.size() >= 4, "the server's Deployment and two Services, the sidecar's Deployment");
        List<Map<String, Object>> podLabels = new ArrayList<>();
        Map<String, Set<String>> portsOfLabels = new java.util.HashMap<>();
        int sdtContainers = 0;
        for (Map<String, Object> d : docs) {
            String kind = (String) d.get("kind");
            assertEquals(API.get(kind), d.get("apiVersion"), "kind " + kind + " with its apiVersion");
            if (!kind.equals("Deployment")) {
                continue;
            }
            Map<String, Object> spec = map(d.get("spec"), "spec");
            Map<String, Object> template = map(spec.get("template"), "template");
            Map<String, Object> labels = map(map(template.get("metadata"), "metadata").get("labels"), "labels");
            assertEquals(map(spec.get("selector"), "selector").get("matchLabels"), labels, "selector = pod labels");
            podLabels.add(labels);
            Map<String, Object> pod = map(template.get("spec"), "pod spec");
            Set<String> volumes = new HashSet<>();
            for (Object v : list(pod.get("volumes"))) {
                volumes.add((String) map(v, "volume").get("name"));
            }
            Set<String> ports = new HashSet<>();
            for (Object c : list(pod.get("containers"))) {
                Map<String, Object> container = map(c, "container");
                for (Object p : list(container.get("ports"))) {
                    ports.add((String) map(p, "port").get("name"));
                    ports.add(String.valueOf(map(p, "port").get("containerPort")));
                }
                for (Object m : list(container.get("volumeMounts"))) {
                    assertTrue(volumes.contains(map(m, "mount").get("name")), "mounted volume exists: " + m);
                }
                for (String probe : List.of("readinessProbe", "livenessProbe")) {
                    Object get = container.get(probe) == null ? null : map(container.get(probe), probe).get("httpGet");
                    if (get != null) {
                        assertTrue(ports.contains(String.valueOf(map(get, "httpGet").get("port"))), probe + " port");
                    }
                }
                if (String.valueOf(container.get("image")).startsWith("sdt:")) {
                    sdtContainers++;
                    parsesAsSdt(list(container.get("args")).stream().map(String::valueOf).toList());
                }
            }
            portsOfLabels.put(labels.toString(), ports);
        }
        assertEquals(2, sdtContainers, "a server and a client sidecar");
        for (Map<String, Object> d : docs) {
            if (!"Service".equals(d.get("kind"))) {
                continue;
            }
            Map<String, Object> spec = map(d.get("spec"), "spec");
            Map<String, Object> selector = map(spec.get("selector"), "selector");
            Map<String, Object> target = podLabels.stream()
                    .filter(l -> l.entrySet().containsAll(selector.entrySet())).findFirst().orElse(null);
            assertTrue(target != null, "Service " + map(d.get("metadata"), "m").get("name") + " selects some pods");
            for (Object p : list(spec.get("ports"))) {
                String port = String.valueOf(map(p, "port").get("targetPort"));
                assertTrue(portsOfLabels.get(target.toString()).contains(port), "targetPort " + port + " exists");
            }
        }
    }

    /** sdt's own parser takes the args: no unknown flag, every tunnel spec and address well formed. */
    private static void parsesAsSdt(List<String> args) {
        assertFalse(args.isEmpty());
        CommandLine cli = Commands.commandLine();
        CommandLine.ParseResult r;
        try {
            r = cli.parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            fail("sdt " + String.join(" ", args) + ": " + e.getMessage());
            return;
        }
        Object command = r.subcommand().commandSpec().userObject();
        try {
            switch (command) {
                case ServerCommand s -> s.nodeConfig();
                case ClientCommand c -> c.nodeConfig();
                default -> fail("an sdt container runs server or client, not " + args.getFirst());
            }
        } catch (RuntimeException e) {
            fail("sdt " + String.join(" ", args) + ": " + e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String what) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new AssertionError(what + " is not a mapping: " + o);
        }
        return (Map<String, Object>) m;
    }

    private static List<?> list(Object o) {
        return o == null ? List.of() : (List<?>) o;
    }
}
