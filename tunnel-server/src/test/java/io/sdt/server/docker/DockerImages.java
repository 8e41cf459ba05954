package io.sdt.server.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Image;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Bookkeeping of what the Docker test leaves in the engine: the images a build made (the classic
 * builder keeps one per step), their removal in dependency order, and leftovers of a run that died.
 */
final class DockerImages {

    private static final Logger log = LogManager.getLogger(DockerImages.class);

    private final DockerClient docker;

    DockerImages(DockerClient docker) {
        this.docker = docker;
    }

    /** Every image id in the engine, intermediate ones included. */
    Set<String> ids() {
        return docker.listImagesCmd().withShowAll(true).exec().stream().map(Image::getId)
                .collect(Collectors.toCollection(HashSet::new));
    }

    /** The images that were not in {@code before}, newest (children) first. */
    List<String> madeSince(Set<String> before) {
        return docker.listImagesCmd().withShowAll(true).exec().stream()
                .filter(i -> !before.contains(i.getId()))
                .sorted(Comparator.comparing(Image::getCreated).reversed())
                .map(Image::getId).toList();
    }

    /**
     * Removes images that may depend on each other, in passes: one that still has a child is tried
     * again after the others (removing a child also removes its untagged parents).
     */
    void remove(List<String> refs) {
        List<String> left = new ArrayList<>(refs);
        for (int pass = 0; pass < 5 && !left.isEmpty(); pass++) {
            for (Iterator<String> it = left.iterator(); it.hasNext(); ) {
                String ref = it.next();
                try {
                    docker.removeImageCmd(ref).withForce(true).exec();
                    it.remove();
                } catch (NotFoundException e) {
                    it.remove();
                } catch (ConflictException e) {
                    // a child is still there: the next pass
                } catch (RuntimeException e) {
                    log.warn("clean-up: remove image {} failed: {}", ref, e.toString());
                    it.remove();
                }
            }
        }
        if (!left.isEmpty()) {
            log.warn("clean-up: images left behind: {}", left);
        }
    }

    /** Containers labelled {@code label=value} and images tagged {@code prefix...}: leftovers of a dead run. */
    void removeLeftovers(String label, String value, String prefix) {
        docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(label, value)).exec()
                .forEach(c -> quietly("remove leftover container " + c.getId(),
                        () -> docker.removeContainerCmd(c.getId()).withForce(true).exec()));
        remove(docker.listImagesCmd().exec().stream()
                .filter(i -> i.getRepoTags() != null
                        && Arrays.stream(i.getRepoTags()).anyMatch(t -> t.startsWith(prefix)))
                .map(Image::getId).toList());
    }

    interface Step {
        void run() throws Exception;
    }

    /** Runs one clean-up step; a failure is logged, never thrown, so the other steps still run. */
    static void quietly(String what, Step step) {
        try {
            step.run();
        } catch (Exception e) {
            log.warn("clean-up: {} failed: {}", what, e.toString());
        }
    }
}
