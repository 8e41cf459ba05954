package io.sdt.server.admin;

import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricFamilyDescriptor;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.sdt.core.metrics.LatencyHistogram;
import io.sdt.core.metrics.ModeTag;
import io.sdt.core.metrics.NodeStats;

import java.util.Arrays;

/**
 * Exposes the core's channel-open {@link LatencyHistogram}s as the Prometheus histogram
 * {@value #NAME}{@code {mode, result}}. Micrometer cannot bind a histogram it does not own, so this is
 * a collector of the registry's underlying {@code PrometheusRegistry}: the Prometheus client writes the
 * family (one TYPE line, cumulative {@code _bucket}s with {@code +Inf} equal to {@code _count}, {@code _sum})
 * in the same scrape as the Micrometer meters. A mode appears once one of its OPENs has been answered,
 * then with both {@code result="ok"} and {@code result="fail"}.
 */
final class OpenLatencyCollector implements Collector {

    static final String NAME = "sdt_channel_open_seconds";
    private static final String HELP =
            "Time from an ingress sending OPEN to receiving OPEN_OK (result=ok) or OPEN_FAIL (result=fail)";
    private static final double[] BOUNDS = withInf(LatencyHistogram.upperBoundsSeconds());

    private final NodeStats stats;

    OpenLatencyCollector(NodeStats stats) {
        this.stats = stats;
    }

    @Override
    public MetricSnapshot collect() {
        HistogramSnapshot.Builder b = HistogramSnapshot.builder().name(NAME).help(HELP);
        for (ModeTag mode : ModeTag.values()) {
            LatencyHistogram.Snapshot ok = stats.openLatency(mode, true).snapshot();
            LatencyHistogram.Snapshot fail = stats.openLatency(mode, false).snapshot();
            if (ok.count() + fail.count() > 0) {
                b.dataPoint(point(mode, "ok", ok));
                b.dataPoint(point(mode, "fail", fail));
            }
        }
        return b.build();
    }

    private static HistogramDataPointSnapshot point(ModeTag mode, String result, LatencyHistogram.Snapshot s) {
        return HistogramDataPointSnapshot.builder()
                .labels(Labels.of("mode", mode.tag(), "result", result))
                .classicHistogramBuckets(ClassicHistogramBuckets.of(BOUNDS, s.counts())) // per bucket; written cumulative
                .sum(s.sumSeconds())
                .build();
    }

    /** Lets the registry refuse a second family of this name at registration, not at scrape time. */
    @Override
    public MetricFamilyDescriptor getMetricFamilyDescriptor() {
        return MetricFamilyDescriptor.histogram(NAME).help(HELP).labelNames("mode", "result").build();
    }

    private static double[] withInf(double[] finite) {
        double[] all = Arrays.copyOf(finite, finite.length + 1);
        all[finite.length] = Double.POSITIVE_INFINITY;
        return all;
    }
}
