package io.eventrunner.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.types.Row;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Map;

/** Flink values as JSON: timestamps as epoch milliseconds, numbers as numbers, NULL as null. */
final class Values {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    static ArrayNode row(Row row) {
        ArrayNode a = F.arrayNode();
        for (int i = 0; i < row.getArity(); i++) a.add(value(row.getField(i)));
        return a;
    }

    static JsonNode value(Object v) {
        if (v == null) return F.nullNode();
        if (v instanceof Instant t) return F.numberNode(t.toEpochMilli());
        // TIMESTAMP (window_start, window_end) is wall time in the session zone, which is UTC.
        if (v instanceof LocalDateTime t) return F.numberNode(t.toInstant(ZoneOffset.UTC).toEpochMilli());
        if (v instanceof Double d) return d.isNaN() || d.isInfinite() ? F.textNode(d.toString()) : F.numberNode(d);
        if (v instanceof Float f) return value(f.doubleValue());
        if (v instanceof Long l) return F.numberNode(l);
        if (v instanceof Integer n) return F.numberNode(n);
        if (v instanceof Short n) return F.numberNode(n);
        if (v instanceof Byte n) return F.numberNode(n);
        if (v instanceof BigDecimal d) return F.numberNode(d);
        if (v instanceof Boolean b) return F.booleanNode(b);
        if (v instanceof Row r) return row(r);
        if (v instanceof Object[] arr) {
            ArrayNode a = F.arrayNode();
            for (Object x : arr) a.add(value(x));
            return a;
        }
        if (v instanceof Map<?, ?> m) {
            ObjectNode o = F.objectNode();
            m.forEach((k, x) -> o.set(String.valueOf(k), value(x)));
            return o;
        }
        return F.textNode(v.toString());
    }

    /** The most telling message of a failure: the planner's own, or the root cause of a job's. */
    static String message(Throwable e) {
        Throwable t = e;
        boolean job = false;
        while (t.getCause() != null && t.getCause() != t) {
            if (t.getClass().getName().contains("JobExecutionException")) job = true;
            t = t.getCause();
        }
        Throwable shown = job ? t : e;
        String m = shown.getMessage() == null ? "" : shown.getMessage().strip();
        int cut = m.indexOf("\nWas expecting"); // the parser lists every token it could take
        if (cut > 0) m = m.substring(0, cut);
        if (m.length() > 2000) m = m.substring(0, 2000) + "...";
        return shown.getClass().getSimpleName() + ": " + m;
    }

    private Values() {}
}
