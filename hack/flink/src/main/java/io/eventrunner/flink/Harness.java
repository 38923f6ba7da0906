package io.eventrunner.flink;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.api.config.TableConfigOptions;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * flink-sql-harness: runs Flink SQL in this JVM (a local mini cluster, streaming mode) as the
 * differential oracle and the per-core baseline for eventrunner's query engine.
 *
 * <pre>
 *   flink-sql-harness cases FILE.json [--parallelism N] [--batch N]
 *   flink-sql-harness bench EVENTS.jsonl SQL [--runs N] [--grace-ms N] [--watermark-interval-ms N]
 *                                            [--parallelism N] [--paced]
 * </pre>
 *
 * With --paced, bench prints {"ready":true} once it is set up and starts each run when a line
 * arrives on stdin (ending at end of input), so that a caller can alternate its runs with another
 * engine's under the same machine load.
 *
 * Results go to stdout as JSON lines; everything else (logs, stray prints) goes elsewhere.
 */
public final class Harness {
    /** The real stdout; System.out is redirected to stderr so only results reach it. */
    static final PrintStream OUT =
            new PrintStream(System.out, false, StandardCharsets.UTF_8);

    private static final boolean DEBUG = System.getenv("FLINK_HARNESS_DEBUG") != null;
    private static SharedCluster cluster;
    private static Path tmpDir;
    private static int watermarkIntervalMs;

    public static void main(String[] argv) throws Exception {
        System.setOut(System.err);
        // Flink's scratch files (the RPC system's jar, blob storage, spill files) go to a directory
        // of this run, removed when the JVM exits.
        tmpDir = Files.createTempDirectory("flink-sql-harness-");
        Runtime.getRuntime().addShutdownHook(new Thread(Harness::cleanUp));
        List<String> args = new ArrayList<>(List.of(argv));
        try {
            int parallelism = intOption(args, "--parallelism", 1);
            int batch = intOption(args, "--batch", 25);
            int runs = intOption(args, "--runs", 1);
            int graceMs = intOption(args, "--grace-ms", 0);
            watermarkIntervalMs = intOption(args, "--watermark-interval-ms", 0);
            boolean paced = args.remove("--paced");
            if (args.size() == 2 && args.get(0).equals("cases")) {
                new Cases(parallelism, batch).run(args.get(1));
            } else if (args.size() == 3 && args.get(0).equals("bench")) {
                new Bench(parallelism, paced).run(args.get(1), args.get(2), runs, graceMs);
            } else {
                usage();
            }
        } catch (Exception e) {
            OUT.flush();
            System.err.println("flink-sql-harness: " + Values.message(e));
            if (DEBUG) e.printStackTrace();
            System.exit(1);
        }
        OUT.flush();
        // The mini cluster leaves non-daemon threads behind; the work is done.
        System.exit(0);
    }

    /** Timings and the like, to stderr when FLINK_HARNESS_DEBUG is set. */
    static void debug(String format, Object... args) {
        if (DEBUG) System.err.printf("flink-sql-harness: " + format + "%n", args);
    }

    private static void cleanUp() {
        try {
            if (cluster != null) cluster.close();
        } catch (Exception e) {
            // exiting anyway
        }
        try (Stream<Path> files = Files.walk(tmpDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }

    private static void usage() {
        System.err.println(
                "usage: flink-sql-harness cases FILE.json [--parallelism N] [--batch N]\n"
                        + "       flink-sql-harness bench EVENTS.jsonl SQL [--runs N] [--grace-ms N]"
                        + " [--watermark-interval-ms N] [--parallelism N] [--paced]");
        System.exit(2);
    }

    /** Removes "--name VALUE" from args and returns VALUE (or the default). */
    private static int intOption(List<String> args, String name, int dflt) {
        int i = args.indexOf(name);
        if (i < 0) return dflt;
        if (i + 1 >= args.size()) usage();
        int v = Integer.parseInt(args.get(i + 1));
        args.subList(i, i + 2).clear();
        return v;
    }

    /**
     * A streaming environment on the run's mini cluster: watermarks emitted after every record that
     * advances them (no periodic timer, so lateness does not depend on wall-clock speed; bench can
     * ask for Flink's periodic emission with --watermark-interval-ms), anything that listens (the
     * cluster's REST endpoint and blob server) bound to 127.0.0.1.
     */
    static StreamExecutionEnvironment env(int parallelism) throws Exception {
        Configuration conf = new Configuration();
        conf.set(CoreOptions.DEFAULT_PARALLELISM, parallelism);
        conf.set(CoreOptions.TMP_DIRS, tmpDir.toString());
        conf.set(WebOptions.UPLOAD_DIR, tmpDir.resolve("web-upload").toString());
        conf.set(PipelineOptions.AUTO_WATERMARK_INTERVAL, Duration.ofMillis(watermarkIntervalMs));
        conf.set(DeploymentOptions.TARGET, "shared-mini-cluster");
        conf.set(DeploymentOptions.ATTACHED, true);
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.BIND_PORT, "0");
        conf.set(JobManagerOptions.ADDRESS, "127.0.0.1");
        conf.set(JobManagerOptions.BIND_HOST, "127.0.0.1");
        conf.set(TaskManagerOptions.HOST, "127.0.0.1");
        conf.set(TaskManagerOptions.BIND_HOST, "127.0.0.1");
        if (cluster == null) cluster = new SharedCluster(conf, parallelism);
        StreamExecutionEnvironment env =
                new StreamExecutionEnvironment(cluster, conf, Harness.class.getClassLoader());
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
        env.setParallelism(parallelism);
        return env;
    }

    /** A table environment in streaming mode on env, session time zone UTC (epoch-aligned windows). */
    static StreamTableEnvironment tableEnv(StreamExecutionEnvironment env) {
        StreamTableEnvironment tEnv =
                StreamTableEnvironment.create(env, EnvironmentSettings.inStreamingMode());
        tEnv.getConfig().set(TableConfigOptions.LOCAL_TIME_ZONE, "UTC");
        return tEnv;
    }

    /**
     * The watermark expression for a grace period: `ts - (grace + 1 ms)`. eventrunner closes a
     * window when its watermark (largest event time - grace) reaches the window's end; Flink fires a
     * window when its watermark reaches end - 1 ms and drops rows at or below the watermark. One
     * millisecond less watermark makes Flink close and drop exactly when eventrunner does.
     */
    static String watermark(String column, long graceMs) {
        return column + " - " + interval(graceMs + 1);
    }

    /** A Flink SQL interval literal of exactly ms milliseconds (DAY TO SECOND, up to 99 days). */
    static String interval(long ms) {
        long s = ms / 1000, frac = ms % 1000;
        return String.format(
                "INTERVAL '%d %02d:%02d:%02d.%03d' DAY TO SECOND(3)",
                s / 86400, (s / 3600) % 24, (s / 60) % 60, s % 60, frac);
    }

    private Harness() {}
}
