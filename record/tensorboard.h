// TensorBoard event files, written without TensorFlow or protobuf: the
// `events.out.tfevents.<time>.<host>` files that `tensorboard --logdir` reads.
//
// A file is a sequence of records, each framed as TensorFlow's record writer
// frames it:
//     uint64 length (little-endian)
//     uint32 masked CRC32C of those 8 bytes
//     length bytes: one serialized tensorflow.Event
//     uint32 masked CRC32C of the data
// The first event carries `file_version: "brain.Event:2"`; each scalar is an
// Event{wall_time, step, summary{value{tag, simple_value}}}. The three messages
// are encoded here by hand (varints, fixed 32/64-bit fields, length-delimited
// submessages), which is all the wire format they need.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace pipelang::record {

// CRC-32C (Castagnoli, as in iSCSI and SSE4.2): crc32c("123456789") == 0xE3069283.
uint32_t crc32c(std::string_view data);
// The masked form TensorFlow stores, so that a CRC of data holding CRCs stays
// well distributed: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t maskedCrc32c(std::string_view data);

// One record as it lies in the file: length, its masked CRC, data, the data's masked CRC.
std::string frameRecord(std::string_view data);

// Serialized tensorflow.Event messages.
std::string fileVersionEvent(double wallTime);
std::string scalarEvent(const std::string& tag, int64_t step, double value, double wallTime);

// Appends events to a new file in `dir` (created if missing). Each record is
// written whole with one fwrite on a file opened for appending, so a crash
// leaves at most a truncated last record, which TensorBoard skips. Throws
// std::runtime_error, naming the file, when it cannot be created or written.
class EventWriter {
public:
    // The file is `events.out.tfevents.<unix seconds>.<host><suffix>`; a
    // suffix tells apart writers in one directory started in the same second.
    explicit EventWriter(const std::filesystem::path& dir, const std::string& suffix = "");
    ~EventWriter();
    EventWriter(const EventWriter&) = delete;
    EventWriter& operator=(const EventWriter&) = delete;

    // Seconds since the Unix epoch, with the fraction: the default wall time.
    static double now();

    void scalar(const std::string& tag, int64_t step, double value, double wallTime = now());
    // Hands what was written to the operating system (after each epoch is enough).
    void flush();

    const std::filesystem::path& path() const { return path_; }

private:
    void write(const std::string& event);

    std::filesystem::path path_;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
};

}  // namespace pipelang::record
