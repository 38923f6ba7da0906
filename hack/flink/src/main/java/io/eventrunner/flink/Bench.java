package io.eventrunner.flink;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The "bench" mode: reads a JSON-lines file of events through the filesystem connector (json
 * format, one file, so one reader in file order), runs the query with the given parallelism and
 * counts its output rows in a discarding sink. Prints one JSON line per run. Paced: prints
 * {"ready":true} first and waits for a line on stdin before each run (none left: done).
 */
final class Bench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final LongAdder ROWS = new LongAdder();

    private final int parallelism;
    private final boolean paced;

    Bench(int parallelism, boolean paced) {
        this.parallelism = parallelism;
        this.paced = paced;
    }

    void run(String file, String sql, int runs, long graceMs) throws Exception {
        Path path = Path.of(file).toAbsolutePath();
        long events = countLines(path);
        BufferedReader control =
                paced ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)) : null;
        if (paced) {
            Harness.OUT.println("{\"ready\":true}");
            Harness.OUT.flush();
        }
        for (int i = 0; i < runs; i++) {
            if (control != null && control.readLine() == null) break;
            StreamExecutionEnvironment env = Harness.env(parallelism);
            StreamTableEnvironment tEnv = Harness.tableEnv(env);
            tEnv.executeSql("CREATE TEMPORARY TABLE event_lines (key STRING, ts BIGINT, seq BIGINT, `value` DOUBLE,"
                    + " v2 DOUBLE, s STRING, rt AS TO_TIMESTAMP_LTZ(ts, 3),"
                    + " WATERMARK FOR rt AS " + Harness.watermark("rt", graceMs) + ")"
                    + " WITH ('connector' = 'filesystem', 'path' = '" + path.toUri() + "', 'format' = 'json')");
            tEnv.executeSql("CREATE TEMPORARY VIEW events AS SELECT key, rt AS ts, seq, `value`, v2, s FROM event_lines");
            Table result = tEnv.sqlQuery(sql);
            tEnv.toChangelogStream(result).sinkTo(new Count()).name("count");
            ROWS.reset();
            long cpu0 = processCpuNanos();
            long t0 = System.nanoTime();
            JobExecutionResult job = env.execute("bench");
            long wallMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            long cpu1 = processCpuNanos();
            ObjectNode r = JSON.createObjectNode();
            r.put("events", events);
            r.put("rows", ROWS.sum());
            r.put("ms", wallMs);
            r.put("jobMs", job.getNetRuntime(TimeUnit.MILLISECONDS));
            r.put("eventsPerSec", wallMs == 0 ? 0 : Math.round(events * 1000.0 / wallMs));
            if (cpu0 >= 0 && cpu1 > cpu0) {
                long cpuMs = TimeUnit.NANOSECONDS.toMillis(cpu1 - cpu0);
                r.put("cpuMs", cpuMs);
                r.put("eventsPerCpuSec", Math.round(events * 1000.0 / cpuMs));
            }
            Harness.OUT.println(JSON.writeValueAsString(r));
            Harness.OUT.flush();
        }
    }

    private static long countLines(Path path) throws Exception {
        long n = 0;
        try (BufferedReader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) if (!line.isBlank()) n++;
        }
        return n;
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) return os.getProcessCpuTime();
        return -1;
    }

    /** Counts rows and discards them. */
    static final class Count implements Sink<Row> {
        private static final long serialVersionUID = 1L;

        @Override
        public SinkWriter<Row> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(Row row, Context ctx) {
                    ROWS.increment();
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }
}
