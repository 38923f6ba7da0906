package io.eventrunner.flink;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A sink that materializes a query's changelog into the final rows of one case, in this JVM (the
 * mini cluster runs in-process): inserts and update-afters add a row, update-befores and deletes
 * remove one equal row. Append-only queries (windows, OVER) only ever add.
 */
final class Collect implements Sink<Row> {
    private static final long serialVersionUID = 1L;
    private static final Map<String, List<Row>> RESULTS = new ConcurrentHashMap<>();

    private final String id;

    Collect(String id) {
        this.id = id;
    }

    static void open(String id) {
        RESULTS.put(id, new ArrayList<>());
    }

    static List<Row> take(String id) {
        List<Row> rows = RESULTS.remove(id);
        return rows == null ? List.of() : rows;
    }

    static void forget(Collection<String> ids) {
        ids.forEach(RESULTS::remove);
    }

    @Override
    public SinkWriter<Row> createWriter(WriterInitContext context) {
        List<Row> rows = RESULTS.get(id);
        return new SinkWriter<>() {
            @Override
            public void write(Row row, Context ctx) {
                RowKind kind = row.getKind();
                Row r = Row.copy(row);
                r.setKind(RowKind.INSERT);
                synchronized (rows) {
                    if (kind == RowKind.INSERT || kind == RowKind.UPDATE_AFTER) rows.add(r);
                    else rows.remove(r);
                }
            }

            @Override
            public void flush(boolean endOfInput) {}

            @Override
            public void close() {}
        };
    }
}
