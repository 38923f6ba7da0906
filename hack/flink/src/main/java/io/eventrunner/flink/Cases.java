package io.eventrunner.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

import static org.apache.flink.table.api.Expressions.$;

/**
 * The "cases" mode: every case's events become a bounded DataStream (one source, parallelism 1,
 * arrival order) exposed as the table `events` with `ts` as rowtime and the watermark `ts - grace`;
 * the case's SQL runs over it and its changelog is materialized into the final rows. Several cases
 * run as one Flink job (a batch) to spread the job start-up cost; when a batch job fails, its
 * cases run again one job each so that the failure is attributed to the case that caused it.
 */
final class Cases {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeInformation<Row> EVENT_TYPE =
            Types.ROW_NAMED(
                    new String[] {"key", "ts_ms", "seq", "value", "v2", "s"},
                    Types.STRING, Types.LONG, Types.LONG, Types.DOUBLE, Types.DOUBLE, Types.STRING);

    private final StreamExecutionEnvironment env;
    private final StreamTableEnvironment tEnv;
    private final int batch;
    private final List<String> running = new ArrayList<>(); // cases of the batch with a sink in its job

    Cases(int parallelism, int batch) throws Exception {
        this.env = Harness.env(parallelism);
        this.tEnv = Harness.tableEnv(env);
        this.batch = Math.max(1, batch);
    }

    void run(String file) throws Exception {
        JsonNode all = JSON.readTree(new File(file));
        if (!all.isArray()) throw new IllegalArgumentException(file + ": expected a JSON array of cases");
        List<JsonNode> cases = new ArrayList<>();
        all.forEach(cases::add);
        if (cases.stream().map(c -> c.path("id").asText()).distinct().count() != cases.size())
            throw new IllegalArgumentException(file + ": case ids must be unique");
        for (int i = 0; i < cases.size(); i += batch) {
            List<JsonNode> group = cases.subList(i, Math.min(cases.size(), i + batch));
            List<ObjectNode> results = runTogether(group);
            if (results == null) {
                results = new ArrayList<>();
                for (JsonNode c : group) results.add(runTogether(List.of(c)).get(0));
            }
            for (ObjectNode r : results) Harness.OUT.println(JSON.writeValueAsString(r));
            Harness.OUT.flush();
        }
    }

    /**
     * Plans every case and runs those that planned as one job. Returns one result per case, or null
     * when the job failed with more than one case in it.
     */
    private List<ObjectNode> runTogether(List<JsonNode> group) throws Exception {
        long t0 = System.nanoTime();
        List<ObjectNode> results = new ArrayList<>();
        running.clear();
        for (JsonNode c : group) {
            ObjectNode r = JSON.createObjectNode();
            String id = c.path("id").asText();
            r.put("id", id);
            results.add(r);
            try {
                List<String> columns = plan(id, c);
                ArrayNode cols = r.putArray("columns");
                columns.forEach(cols::add);
            } catch (Exception e) {
                r.putArray("columns");
                r.putArray("rows");
                r.put("error", Values.message(e));
            }
        }
        long t1 = System.nanoTime();
        if (!running.isEmpty()) {
            try {
                env.execute("cases");
                Harness.debug("planned %d cases in %d ms, ran them in %d ms", running.size(),
                        (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000);
            } catch (Exception e) {
                Collect.forget(running);
                if (running.size() > 1) return null;
                for (ObjectNode r : results) {
                    if (!r.get("id").asText().equals(running.get(0))) continue;
                    r.putArray("rows");
                    r.put("error", Values.message(e));
                }
            }
        }
        for (ObjectNode r : results) {
            if (r.has("error")) continue;
            ArrayNode rows = r.putArray("rows");
            for (Row row : Collect.take(r.get("id").asText())) rows.add(Values.row(row));
        }
        return results;
    }

    /**
     * Registers the case's events as `events` and plans its SQL into a sink; returns the column
     * names. A case without events is only planned (a bounded source needs at least one element, and
     * no input gives no rows in streaming mode).
     */
    private List<String> plan(String id, JsonNode c) {
        long grace = c.path("graceMs").asLong(0);
        List<Row> rows = new ArrayList<>();
        long seq = 0;
        for (JsonNode e : c.path("events")) {
            seq++;
            if (!e.path("ts").canConvertToLong()) throw new IllegalArgumentException("an event has no numeric ts");
            rows.add(Row.of(
                    text(e.get("key")),
                    e.get("ts").asLong(),
                    e.hasNonNull("seq") ? e.get("seq").asLong() : seq,
                    number(e.get("value")),
                    number(e.get("v2")),
                    text(e.get("s"))));
        }
        DataStream<Row> stream = env.fromData(rows, EVENT_TYPE).setParallelism(1);
        Table raw = tEnv.fromDataStream(stream, Schema.newBuilder()
                .columnByExpression("ts", "TO_TIMESTAMP_LTZ(ts_ms, 3)")
                .watermark("ts", Harness.watermark("ts", grace))
                .build());
        tEnv.dropTemporaryView("events");
        tEnv.createTemporaryView("events", raw.select($("key"), $("ts"), $("seq"), $("value"), $("v2"), $("s")));
        Table result = tEnv.sqlQuery(c.path("sql").asText());
        List<String> columns = result.getResolvedSchema().getColumnNames();
        if (rows.isEmpty()) {
            result.explain();
        } else {
            tEnv.toChangelogStream(result).sinkTo(new Collect(id)).setParallelism(1).name("collect " + id);
            Collect.open(id);
            running.add(id);
        }
        return columns;
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? null : n.asText();
    }

    private static Double number(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (!n.isNumber()) throw new IllegalArgumentException("value/v2 must be a number or null, got " + n);
        return n.asDouble();
    }
}
