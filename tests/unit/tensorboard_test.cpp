// TensorBoard event files: the CRC against published vectors, and whole files
// read back by tests/tools/read_tfevents.py, a reader that shares no code with
// the writer (and, where python3-protobuf is installed, by the protobuf library).
#include "record/tensorboard.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "test_files.h"

namespace pipelang::record {
namespace {

namespace fs = std::filesystem;

TEST(Crc32c, KnownVectors) {
    EXPECT_EQ(crc32c(""), 0x00000000u);
    EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
    EXPECT_EQ(crc32c("a"), 0xC1D04330u);
    // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of ones, and counting up.
    EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
    EXPECT_EQ(crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
    std::string ascending;
    for (int i = 0; i < 32; ++i) ascending += char(i);
    EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
}

TEST(Crc32c, Masking) {
    uint32_t crc = crc32c("123456789");
    EXPECT_EQ(maskedCrc32c("123456789"), ((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    EXPECT_EQ(maskedCrc32c("123456789"), 0xC78AB0E5u);  // 0xE3069283 rotated right by 15, plus the delta
    EXPECT_EQ(maskedCrc32c(""), 0xa282ead8u);
}

TEST(TensorBoard, RecordFraming) {
    std::string framed = frameRecord("hello");
    ASSERT_EQ(framed.size(), 8u + 4 + 5 + 4);
    EXPECT_EQ(framed.substr(0, 8), std::string("\x05\0\0\0\0\0\0\0", 8));
    uint32_t lengthCrc = maskedCrc32c(framed.substr(0, 8));
    EXPECT_EQ(framed.substr(8, 4), std::string(reinterpret_cast<const char*>(&lengthCrc), 4));  // little-endian host
    EXPECT_EQ(framed.substr(12, 5), "hello");
    uint32_t dataCrc = maskedCrc32c("hello");
    EXPECT_EQ(framed.substr(17, 4), std::string(reinterpret_cast<const char*>(&dataCrc), 4));
}

TEST(TensorBoard, EventEncoding) {
    // Bytes as protobuf serializes Event{wall_time: 1.5, step: 3, summary{value{tag: "a", simple_value: 2}}}.
    std::string expected(
        "\x09\0\0\0\0\0\0\xF8\x3F"  // 1: wall_time, fixed64 1.5
        "\x10\x03"                  // 2: step, varint 3
        "\x2A\x0A"                  // 5: summary, 10 bytes
        "\x0A\x08"                  //   1: value, 8 bytes
        "\x0A\x01"
        "a"                //     1: tag
        "\x15\0\0\0\x40",  //     2: simple_value, fixed32 2.0f
        9 + 2 + 2 + 2 + 3 + 5);
    EXPECT_EQ(scalarEvent("a", 3, 2.0, 1.5), expected);
    std::string version = fileVersionEvent(1.5);
    EXPECT_EQ(version.substr(9), std::string("\x1A\x0D") + "brain.Event:2");
}

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("pipe-tb-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

// Debian's python3 sees python3-protobuf; another python3 on the PATH may not.
std::string python() {
    return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

nlohmann::json readEvents(const fs::path& file) {
    std::string command = python() + " '" PIPE_SOURCE_DIR "/tests/tools/read_tfevents.py' '" + file.string() + "'";
    FILE* pipe = popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    if (!pipe) return {};
    std::string out;
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    int status = pclose(pipe);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command << "\n" << out;
    return nlohmann::json::parse(out, nullptr, false);
}

struct Scalar {
    std::string tag;
    int64_t step;
    double value;
};

TEST(TensorBoard, IndependentReaderReadsWhatWasWritten) {
    TempDir dir;
    std::vector<Scalar> written;
    fs::path file;
    {
        EventWriter writer(dir.path / "fit", ".fit");
        file = writer.path();
        for (int64_t epoch = 0; epoch < 5; ++epoch) {
            written.push_back({"loss/train", epoch, 1.0 / double(epoch + 1)});
            written.push_back({"loss/valid", epoch, 1.25 - 0.1 * double(epoch)});
            written.push_back({"metrics/accuracy", epoch, 0.5 + 0.09 * double(epoch)});
            for (size_t i = written.size() - 3; i < written.size(); ++i)
                writer.scalar(written[i].tag, written[i].step, written[i].value, 1.7e9 + double(epoch));
            writer.flush();
        }
        written.push_back({"lr", 123456789012, 3e-4});
        writer.scalar("lr", 123456789012, 3e-4);
        written.push_back({"valid_loss_without_valid_split", 7, std::nan("")});
        writer.scalar(written.back().tag, 7, std::nan(""));
        written.push_back({"negative step", -1, -2.5});
        writer.scalar(written.back().tag, -1, -2.5);
    }
    EXPECT_EQ(file.parent_path(), dir.path / "fit");
    EXPECT_EQ(file.filename().string().rfind("events.out.tfevents.", 0), 0u) << file;
    EXPECT_EQ(file.filename().string().substr(file.filename().string().size() - 4), ".fit");

    nlohmann::json events = readEvents(file);
    ASSERT_TRUE(events.is_object()) << events;
    EXPECT_EQ(events["file_version"], "brain.Event:2");
    ASSERT_EQ(events["scalars"].size(), written.size());
    for (size_t i = 0; i < written.size(); ++i) {
        const auto& got = events["scalars"][i];
        EXPECT_EQ(got["tag"], written[i].tag) << i;
        EXPECT_EQ(got["step"].get<int64_t>(), written[i].step) << i;
        double value = std::stod(got["value"].get<std::string>());
        // simple_value is a float: the value arrives rounded to float, exactly.
        if (std::isnan(written[i].value)) {
            EXPECT_TRUE(std::isnan(value)) << i;
        } else {
            EXPECT_EQ(value, double(float(written[i].value))) << i;
        }
    }
    EXPECT_DOUBLE_EQ(events["scalars"][0]["wall_time"].get<double>(), 1.7e9);
    double now = EventWriter::now();
    EXPECT_NEAR(events["scalars"][15]["wall_time"].get<double>(), now, 60.0);
    // Where Debian's python3-protobuf is installed (scripts/install-deps does),
    // the protobuf library has parsed every event too and agreed.
    if (fs::exists("/usr/lib/python3/dist-packages/google/protobuf")) {
        EXPECT_TRUE(events["protobuf"].get<bool>());
    }
}

TEST(TensorBoard, TruncatedOrCorruptFilesAreCaughtByTheReader) {
    // The reader must not pass a damaged file: a check of the checker.
    TempDir dir;
    fs::path file;
    {
        EventWriter writer(dir.path);
        file = writer.path();
        writer.scalar("loss", 0, 1.0);
    }
    std::string bytes = pipelang::testing::readFile(file);
    {
        std::string flipped = bytes;
        flipped[flipped.size() - 6] ^= 0x01;
        std::ofstream(dir.path / "flipped", std::ios::binary) << flipped;
        std::ofstream(dir.path / "truncated", std::ios::binary) << bytes.substr(0, bytes.size() - 3);
    }
    for (const char* name : {"flipped", "truncated"}) {
        std::string command = python() + " '" PIPE_SOURCE_DIR "/tests/tools/read_tfevents.py' '" +
                              (dir.path / name).string() + "' >/dev/null 2>&1";
        EXPECT_NE(std::system(command.c_str()), 0) << name;
    }
}

TEST(TensorBoard, UnwritableDirectoryIsNamed) {
    TempDir dir;
    fs::create_directories(dir.path);
    std::ofstream(dir.path / "file") << "not a directory";
    try {
        EventWriter writer(dir.path / "file" / "below");
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find((dir.path / "file").string()), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace pipelang::record
