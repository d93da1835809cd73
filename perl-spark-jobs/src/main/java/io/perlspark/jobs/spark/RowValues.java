package io.perlspark.jobs.spark;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;
import scala.collection.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Converts Spark rows and JSON trees to plain Java values (Map, List, String, Number, Boolean,
 * byte[]) so that one converter handles every input format.
 */
public final class RowValues {
  private RowValues() {}

  public static Map<String, Object> fromRow(Row row) {
    Map<String, Object> m = new LinkedHashMap<>();
    StructField[] fields = row.schema().fields();
    for (int i = 0; i < fields.length; i++) {
      m.put(fields[i].name(), plain(row.get(i)));
    }
    return m;
  }

  private static Object plain(Object v) {
    if (v instanceof Row r) {
      return fromRow(r);
    }
    if (v instanceof Seq<?> s) {
      List<Object> out = new ArrayList<>(s.size());
      for (Object o : CollectionConverters.asJava(s)) {
        out.add(plain(o));
      }
      return out;
    }
    if (v instanceof scala.collection.Map<?, ?> sm) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : CollectionConverters.asJava(sm).entrySet()) {
        out.put(String.valueOf(e.getKey()), plain(e.getValue()));
      }
      return out;
    }
    return v;
  }

  public static Map<String, Object> fromJson(JsonNode node) {
    Map<String, Object> m = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = node.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      m.put(e.getKey(), plain(e.getValue()));
    }
    return m;
  }

  private static Object plain(JsonNode n) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      return null;
    }
    if (n.isObject()) {
      return fromJson(n);
    }
    if (n.isArray()) {
      List<Object> out = new ArrayList<>(n.size());
      for (JsonNode c : n) {
        out.add(plain(c));
      }
      return out;
    }
    if (n.isBoolean()) {
      return n.booleanValue();
    }
    if (n.isIntegralNumber()) {
      // longValue() of a larger integer wraps around silently.
      return n.canConvertToLong() ? (Object) n.longValue() : n.bigIntegerValue();
    }
    if (n.isNumber()) {
      return n.doubleValue();
    }
    return n.asText();
  }
}
