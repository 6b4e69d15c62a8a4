// safetensors: https://github.com/huggingface/safetensors — an 8-byte
// little-endian header length N, N bytes of JSON, then the tensors' bytes.
// Every offset, size and dtype in the header is checked against the file
// (runtime/weights/safetensors_header.cpp) before any tensor is made, so a bad file
// is one clear error.
#include "runtime/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "runtime/error.h"
#include "runtime/weights/safetensors_header.h"

namespace pipelang::runtime {

namespace {

torch::ScalarType torchType(const SafetensorsDType& dtype) {
    static const std::map<std::string, torch::ScalarType> types = {
        {"F32", torch::kFloat32}, {"F64", torch::kFloat64}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
        {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
        {"U8", torch::kUInt8},    {"BOOL", torch::kBool},
    };
    return types.at(dtype.name);
}

const SafetensorsDType* dtypeByType(torch::ScalarType type) {
    for (const auto& d : kSafetensorsDTypes)
        if (type == torchType(d)) return &d;
    return nullptr;
}

std::string quoted(const std::filesystem::path& path) {
    return "`" + path.string() + "`";
}

[[noreturn]] void bad(const std::filesystem::path& path, const std::string& what) {
    badSafetensors(path, what);
}

// Reverses each element's bytes in place (only on big-endian machines).
void swapBytes(char* data, size_t count, size_t width) {
    if (width == 1) return;
    for (size_t i = 0; i < count; ++i) std::reverse(data + i * width, data + (i + 1) * width);
}

// Reads exactly `size` bytes at `offset`, or reports a truncated file.
void readAt(std::ifstream& in, const std::filesystem::path& path, uint64_t offset, char* out, uint64_t size) {
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(out, static_cast<std::streamsize>(size));
    if (static_cast<uint64_t>(in.gcount()) != size) bad(path, "the file is truncated or unreadable");
}

std::string errnoText() {
    return std::strerror(errno);
}

}  // namespace

NamedTensors readSafetensors(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw RuntimeError("weights file " + quoted(path) + " does not exist");
    if (std::filesystem::is_directory(path, ec)) bad(path, "it is a directory");
    uint64_t fileSize = std::filesystem::file_size(path, ec);
    if (ec) bad(path, ec.message());
    std::ifstream in(path, std::ios::binary);
    if (!in) bad(path, errnoText());

    unsigned char lengthBytes[8] = {};
    if (fileSize >= 8) readAt(in, path, 0, reinterpret_cast<char*>(lengthBytes), 8);
    uint64_t headerSize = safetensorsHeaderSize(path, lengthBytes, fileSize);
    uint64_t dataStart = 8 + headerSize;
    uint64_t dataSize = fileSize - dataStart;

    std::string text(headerSize, '\0');
    readAt(in, path, 8, text.data(), headerSize);
    SafetensorsHeader header = parseSafetensorsHeader(path, text, dataSize);

    NamedTensors result;
    result.metadata = std::move(header.metadata);
    for (const auto& e : header.entries) {
        torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(torchType(*e.dtype)));
        uint64_t size = e.end - e.begin;
        if (size > 0) {
            char* out = static_cast<char*>(t.data_ptr());
            readAt(in, path, dataStart + e.begin, out, size);
            if constexpr (std::endian::native == std::endian::big)
                swapBytes(out, size / e.dtype->bytes, e.dtype->bytes);
            if (torchType(*e.dtype) == torch::kBool) {
                const unsigned char* bytes = reinterpret_cast<const unsigned char*>(out);
                for (uint64_t i = 0; i < size; ++i)
                    if (bytes[i] > 1) bad(path, "tensor `" + e.name + "` of dtype BOOL holds a byte other than 0 or 1");
            }
        }
        result.tensors.emplace_back(e.name, std::move(t));
    }
    return result;
}

void writeSafetensors(const std::filesystem::path& path, const NamedTensors& data) {
    auto fail = [&](const std::string& what) {
        throw RuntimeError("cannot write weights file " + quoted(path) + ": " + what);
    };

    // Header: metadata first, then the tensors in the given order.
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!data.metadata.empty()) {
        nlohmann::ordered_json meta = nlohmann::ordered_json::object();
        for (const auto& [k, v] : data.metadata) meta[k] = v;
        header["__metadata__"] = meta;
    }
    std::vector<torch::Tensor> tensors;
    std::set<std::string> names;
    uint64_t offset = 0;
    for (const auto& [name, tensor] : data.tensors) {
        if (name == "__metadata__") fail("`__metadata__` cannot be a tensor's name");
        if (!names.insert(name).second) fail("the tensor name `" + name + "` is used twice");
        if (!tensor.defined()) fail("tensor `" + name + "` is undefined");
        const SafetensorsDType* dtype = dtypeByType(tensor.scalar_type());
        if (!dtype)
            fail("tensor `" + name + "` has the type " + std::string(c10::toString(tensor.scalar_type())) +
                 ", which safetensors files here do not store");
        torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
        uint64_t size = static_cast<uint64_t>(t.numel()) * dtype->bytes;
        nlohmann::ordered_json entry;
        entry["dtype"] = dtype->name;
        entry["shape"] = t.sizes().vec();
        entry["data_offsets"] = {offset, offset + size};
        header[name] = entry;
        offset += size;
        tensors.push_back(t);
    }
    std::string text = header.dump();
    // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
    text.append((8 - text.size() % 8) % 8, ' ');

    std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    std::string tmpl = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) fail(errnoText());
    std::string tmp = tmpl;
    auto abandon = [&](const std::string& what) {
        ::close(fd);
        ::unlink(tmp.c_str());
        fail(what);
    };
    auto writeAll = [&](const char* bytes, size_t size) {
        while (size > 0) {
            ssize_t n = ::write(fd, bytes, size);
            if (n < 0) {
                if (errno == EINTR) continue;
                abandon(errnoText());
            }
            bytes += n;
            size -= static_cast<size_t>(n);
        }
    };

    unsigned char length[8];
    uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(n >> (8 * i));
    writeAll(reinterpret_cast<const char*>(length), 8);
    writeAll(text.data(), text.size());
    for (const auto& t : tensors) {
        size_t size = static_cast<size_t>(t.numel()) * t.element_size();
        if (size == 0) continue;
        if constexpr (std::endian::native == std::endian::big) {
            std::vector<char> copy(static_cast<const char*>(t.data_ptr()),
                                   static_cast<const char*>(t.data_ptr()) + size);
            swapBytes(copy.data(), static_cast<size_t>(t.numel()), t.element_size());
            writeAll(copy.data(), size);
        } else {
            writeAll(static_cast<const char*>(t.data_ptr()), size);
        }
    }
    // mkstemp makes the file 0600; weights are ordinary files.
    mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);
    if (::fsync(fd) != 0) abandon(errnoText());
    if (::close(fd) != 0) {
        ::unlink(tmp.c_str());
        fail(errnoText());
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string what = errnoText();
        ::unlink(tmp.c_str());
        fail(what);
    }
    // Make the rename itself durable.
    int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dirFd >= 0) {
        ::fsync(dirFd);
        ::close(dirFd);
    }
}

}  // namespace pipelang::runtime
