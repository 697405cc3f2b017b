package io.serval.server.protocol.v2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * Renders v2 protobuf messages as the JSON Triton's HTTP API returns: proto field names (snake_case) and 64-bit
 * integers as JSON numbers (protobuf's own JSON mapping writes them as strings, which HTTP clients of Triton do
 * not expect).
 */
public final class ProtoJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames().includingDefaultValueFields().omittingInsignificantWhitespace();

  private ProtoJson() {}

  /** The JSON of {@code message}. */
  public static String toJson(Message message) {
    try {
      JsonNode tree = MAPPER.readTree(PRINTER.print(message));
      numbersFor64BitFields(tree, message.getDescriptorForType());
      return MAPPER.writeValueAsString(tree);
    } catch (InvalidProtocolBufferException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot render " + message.getDescriptorForType().getFullName(), e);
    }
  }

  /** A JSON array of the JSON of each message. */
  public static String toJsonArray(List<? extends Message> messages) {
    StringBuilder array = new StringBuilder("[");
    for (Message message : messages) {
      if (array.length() > 1) {
        array.append(',');
      }
      array.append(toJson(message));
    }
    return array.append(']').toString();
  }

  private static void numbersFor64BitFields(JsonNode node, Descriptor descriptor) {
    if (!(node instanceof ObjectNode)) {
      return;
    }
    ObjectNode object = (ObjectNode) node;
    for (Map.Entry<String, JsonNode> entry : object.properties()) {
      FieldDescriptor field = descriptor.findFieldByName(entry.getKey());
      if (field == null) {
        continue;
      }
      JsonNode value = entry.getValue();
      if (field.isMapField()) {
        FieldDescriptor mapValue = field.getMessageType().findFieldByName("value");
        for (Map.Entry<String, JsonNode> item : value.properties()) {
          if (mapValue.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            numbersFor64BitFields(item.getValue(), mapValue.getMessageType());
          } else if (is64Bit(mapValue)) {
            item.setValue(number(item.getValue()));
          }
        }
      } else if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        if (value.isArray()) {
          value.forEach(element -> numbersFor64BitFields(element, field.getMessageType()));
        } else {
          numbersFor64BitFields(value, field.getMessageType());
        }
      } else if (is64Bit(field)) {
        if (value.isArray()) {
          ArrayNode array = (ArrayNode) value;
          for (int i = 0; i < array.size(); i++) {
            array.set(i, number(array.get(i)));
          }
        } else {
          entry.setValue(number(value));
        }
      }
    }
  }

  private static boolean is64Bit(FieldDescriptor field) {
    return field.getJavaType() == FieldDescriptor.JavaType.LONG;
  }

  private static JsonNode number(JsonNode value) {
    return value.isTextual() ? MAPPER.getNodeFactory().numberNode(new BigInteger(value.asText())) : value;
  }
}
