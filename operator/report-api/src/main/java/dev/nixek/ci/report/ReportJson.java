package dev.nixek.ci.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import dev.nixek.ci.protocol.Json;

/**
 * The wire mapper ({@link Json#mapper()}: unknown fields, null primitives and trailing tokens are errors) made strict
 * about types too. Jackson's defaults would read {@code "seq": 1.5} as 1, {@code "seq": "1"} as 1 and
 * {@code "data": 5} as "5"; a report with a wrong type is a 400, not a guess.
 */
final class ReportJson {
  static final ObjectMapper MAPPER = strict();

  private ReportJson() {}

  private static ObjectMapper strict() {
    JsonMapper.Builder b = Json.mapper() instanceof JsonMapper m ? m.rebuild() : JsonMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    return b.disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .withCoercionConfig(LogicalType.Textual, c -> c
            .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
            .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
            .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
        .build();
  }
}
