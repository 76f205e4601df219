#include "agent/media/telephone_event.h"

#include <gtest/gtest.h>

#include <vector>

namespace callsim::agent {
namespace {

TEST(TelephoneEventTest, SerializesTheRfc4733Layout) {
  // Key '5', end bit, volume 10, duration 800 (0x0320): 05 8a 03 20.
  const TelephoneEvent event{.event = 5, .end = true, .volume = 10, .duration = 800};
  const auto bytes = SerializeTelephoneEvent(event);
  EXPECT_EQ(bytes, (std::array<uint8_t, 4>{0x05, 0x8a, 0x03, 0x20}));
  const TelephoneEvent not_end{.event = 11, .end = false, .volume = 63, .duration = 0xffff};
  EXPECT_EQ(SerializeTelephoneEvent(not_end), (std::array<uint8_t, 4>{0x0b, 0x3f, 0xff, 0xff}));
}

TEST(TelephoneEventTest, ParsesWhatItSerializesAndIgnoresTheReservedBit) {
  for (uint8_t code = 0; code < 16; ++code) {
    const TelephoneEvent in{.event = code,
                            .end = code % 2 == 0,
                            .volume = code,
                            .duration = static_cast<uint16_t>(160 * code)};
    const auto bytes = SerializeTelephoneEvent(in);
    TelephoneEvent out;
    ASSERT_TRUE(ParseTelephoneEvent(bytes, &out, nullptr));
    EXPECT_EQ(out.event, in.event);
    EXPECT_EQ(out.end, in.end);
    EXPECT_EQ(out.volume, in.volume);
    EXPECT_EQ(out.duration, in.duration);
  }
  const std::vector<uint8_t> reserved_set = {0x01, 0x4a, 0x00, 0xa0};  // R bit set, E clear
  TelephoneEvent out;
  ASSERT_TRUE(ParseTelephoneEvent(reserved_set, &out, nullptr));
  EXPECT_FALSE(out.end);
  EXPECT_EQ(out.volume, 10);
  EXPECT_EQ(out.duration, 160);
}

TEST(TelephoneEventTest, RejectsPayloadsOfTheWrongSize) {
  TelephoneEvent out;
  std::string error;
  EXPECT_FALSE(ParseTelephoneEvent(std::vector<uint8_t>{1, 2, 3}, &out, &error));
  EXPECT_EQ(error, "telephone-event payload of 3 bytes (expected 4)");
  EXPECT_FALSE(ParseTelephoneEvent(std::vector<uint8_t>(8, 0), &out, &error));
  EXPECT_FALSE(ParseTelephoneEvent(std::vector<uint8_t>{}, &out, nullptr));
}

TEST(TelephoneEventTest, MapsKeysToEventCodesAndBack) {
  const std::string keys = "0123456789*#ABCD";
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(DtmfEventCode(keys[i]), static_cast<uint8_t>(i)) << keys[i];
    EXPECT_EQ(DtmfKey(static_cast<uint8_t>(i)), keys[i]);
  }
  EXPECT_EQ(DtmfEventCode('c'), 14);
  EXPECT_FALSE(DtmfEventCode('E'));
  EXPECT_FALSE(DtmfEventCode(' '));
  EXPECT_FALSE(DtmfEventCode('\0'));
  EXPECT_EQ(DtmfKey(16), '\0');  // 16: flash, not a key
  EXPECT_EQ(DtmfKey(255), '\0');
}

}  // namespace
}  // namespace callsim::agent
