// Reading one field of an untrusted JSON object (an event's detail, a stored row): the field's
// value when it is there with the expected type, else the fallback. Never throws; a detail that
// is not an object has no fields. And the one way an optional number is written: null if empty.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace callsim::agent {

// The field `key` of `object`, or nullptr when `object` is not an object or has no such field.
inline const nlohmann::json* JsonField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

inline std::string JsonString(const nlohmann::json& object, const char* key) {
  const nlohmann::json* field = JsonField(object, key);
  return field != nullptr && field->is_string() ? field->get<std::string>() : std::string();
}

inline std::optional<double> JsonNumber(const nlohmann::json& object, const char* key) {
  const nlohmann::json* field = JsonField(object, key);
  if (field == nullptr || !field->is_number()) return std::nullopt;
  return field->get<double>();
}

// A number as an integer (a fraction is cut off, as nlohmann's get<int64_t> does); 0 otherwise.
inline int64_t JsonInteger(const nlohmann::json& object, const char* key) {
  const nlohmann::json* field = JsonField(object, key);
  return field != nullptr && field->is_number() ? field->get<int64_t>() : 0;
}

inline bool JsonBool(const nlohmann::json& object, const char* key) {
  const nlohmann::json* field = JsonField(object, key);
  return field != nullptr && field->is_boolean() && field->get<bool>();
}

inline nlohmann::json JsonNumberOrNull(const std::optional<double>& value) {
  return value.has_value() ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace callsim::agent
