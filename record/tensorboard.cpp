#include "record/tensorboard.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace pipelang::record {

namespace {

// The reflected Castagnoli polynomial 0x1EDC6F41.
constexpr uint32_t kPolynomial = 0x82F63B78u;
constexpr uint32_t kMaskDelta = 0xa282ead8u;

constexpr std::array<uint32_t, 256> makeTable() {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t crc = i;
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kPolynomial : 0u);
        table[i] = crc;
    }
    return table;
}
constexpr std::array<uint32_t, 256> kTable = makeTable();

// ---- the protobuf wire format, as much as three messages need ---------------

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void putVarint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
        out += char(uint8_t(v) | 0x80);
        v >>= 7;
    }
    out += char(uint8_t(v));
}

void putLittleEndian(std::string& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += char(uint8_t(v >> (8 * i)));
}

void putKey(std::string& out, uint32_t field, WireType type) {
    putVarint(out, (uint64_t(field) << 3) | type);
}

void putDouble(std::string& out, uint32_t field, double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    putKey(out, field, kFixed64);
    putLittleEndian(out, bits, 8);
}

void putFloat(std::string& out, uint32_t field, float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    putKey(out, field, kFixed32);
    putLittleEndian(out, bits, 4);
}

void putInt64(std::string& out, uint32_t field, int64_t v) {
    putKey(out, field, kVarint);
    putVarint(out, uint64_t(v));  // negative int64s take ten bytes, as protobuf writes them
}

void putBytes(std::string& out, uint32_t field, std::string_view bytes) {
    putKey(out, field, kLengthDelimited);
    putVarint(out, bytes.size());
    out.append(bytes);
}

// Field numbers from tensorflow/core/util/event.proto and framework/summary.proto.
namespace event {
constexpr uint32_t kWallTime = 1, kStep = 2, kFileVersion = 3, kSummary = 5;
}
namespace summary {
constexpr uint32_t kValue = 1;
}
namespace value {
constexpr uint32_t kTag = 1, kSimpleValue = 2;
}

std::string hostName() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0 || !name[0]) return "localhost";
    return name;
}

}  // namespace

uint32_t crc32c(std::string_view data) {
    uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char c : data) crc = kTable[(crc ^ c) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

uint32_t maskedCrc32c(std::string_view data) {
    uint32_t crc = crc32c(data);
    return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

std::string frameRecord(std::string_view data) {
    std::string out;
    out.reserve(data.size() + 16);
    putLittleEndian(out, data.size(), 8);
    putLittleEndian(out, maskedCrc32c(out), 4);
    out.append(data);
    putLittleEndian(out, maskedCrc32c(data), 4);
    return out;
}

std::string fileVersionEvent(double wallTime) {
    std::string e;
    putDouble(e, event::kWallTime, wallTime);
    putBytes(e, event::kFileVersion, "brain.Event:2");
    return e;
}

std::string scalarEvent(const std::string& tag, int64_t step, double v, double wallTime) {
    std::string val;
    putBytes(val, value::kTag, tag);
    putFloat(val, value::kSimpleValue, float(v));
    std::string sum;
    putBytes(sum, summary::kValue, val);
    std::string e;
    putDouble(e, event::kWallTime, wallTime);
    putInt64(e, event::kStep, step);
    putBytes(e, event::kSummary, sum);
    return e;
}

EventWriter::EventWriter(const std::filesystem::path& dir, const std::string& suffix) : file_(nullptr, &std::fclose) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create the directory " + dir.string() + ": " + ec.message());
    double started = now();
    path_ = dir / ("events.out.tfevents." + std::to_string(int64_t(started)) + "." + hostName() + suffix);
    file_.reset(std::fopen(path_.c_str(), "ab"));
    if (!file_) throw std::runtime_error("cannot create " + path_.string() + ": " + std::strerror(errno));
    write(fileVersionEvent(started));
    flush();
}

EventWriter::~EventWriter() = default;  // fclose flushes

double EventWriter::now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void EventWriter::scalar(const std::string& tag, int64_t step, double value, double wallTime) {
    write(scalarEvent(tag, step, value, wallTime));
}

void EventWriter::flush() {
    if (std::fflush(file_.get()) != 0)
        throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(errno));
}

void EventWriter::write(const std::string& event) {
    std::string record = frameRecord(event);
    if (std::fwrite(record.data(), 1, record.size(), file_.get()) != record.size())
        throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(errno));
}

}  // namespace pipelang::record
