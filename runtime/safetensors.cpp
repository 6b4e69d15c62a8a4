// safetensors: https://github.com/huggingface/safetensors — an 8-byte
// little-endian header length N, N bytes of JSON, then the tensors' bytes.
// Every offset, size and dtype in the header is checked against the file
// before any tensor is made, so a bad file is one clear error.
#include "runtime/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

using nlohmann::json;

// The official implementation's limit: a larger header is taken as a corrupt file.
constexpr uint64_t kMaxHeader = 100'000'000;

struct DType {
    const char* name;
    torch::ScalarType type;
    size_t bytes;
};

const DType kDTypes[] = {
    {"F32", torch::kFloat32, 4},   {"F64", torch::kFloat64, 8}, {"F16", torch::kFloat16, 2},
    {"BF16", torch::kBFloat16, 2}, {"I64", torch::kInt64, 8},   {"I32", torch::kInt32, 4},
    {"I16", torch::kInt16, 2},     {"I8", torch::kInt8, 1},     {"U8", torch::kUInt8, 1},
    {"BOOL", torch::kBool, 1},
};

const DType* dtypeByName(const std::string& name) {
    for (const auto& d : kDTypes)
        if (name == d.name) return &d;
    return nullptr;
}

const DType* dtypeByType(torch::ScalarType type) {
    for (const auto& d : kDTypes)
        if (type == d.type) return &d;
    return nullptr;
}

std::string quoted(const std::filesystem::path& path) {
    return "`" + path.string() + "`";
}

[[noreturn]] void bad(const std::filesystem::path& path, const std::string& what) {
    throw RuntimeError("cannot read weights file " + quoted(path) + ": " + what);
}

// Reverses each element's bytes in place (only on big-endian machines).
void swapBytes(char* data, size_t count, size_t width) {
    if (width == 1) return;
    for (size_t i = 0; i < count; ++i) std::reverse(data + i * width, data + (i + 1) * width);
}

uint64_t readLength(const unsigned char* bytes) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
    return n;
}

struct Entry {
    std::string name;
    const DType* dtype = nullptr;
    std::vector<int64_t> shape;
    uint64_t begin = 0, end = 0;
};

// Parses and checks one tensor's header entry against the data's size.
Entry parseEntry(const std::filesystem::path& path, const std::string& name, const json& e, uint64_t dataSize) {
    Entry entry;
    entry.name = name;
    if (!e.is_object()) bad(path, "the header entry of tensor `" + name + "` is not an object");
    for (const auto& [key, _] : e.items())
        if (key != "dtype" && key != "shape" && key != "data_offsets")
            bad(path, "tensor `" + name + "` has an unknown header field `" + key + "`");
    auto dtype = e.find("dtype");
    if (dtype == e.end() || !dtype->is_string()) bad(path, "tensor `" + name + "` has no dtype");
    entry.dtype = dtypeByName(dtype->get<std::string>());
    if (!entry.dtype)
        bad(path, "tensor `" + name + "` has the unsupported dtype `" + dtype->get<std::string>() +
                      "` (supported: F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL)");

    auto shape = e.find("shape");
    if (shape == e.end() || !shape->is_array()) bad(path, "tensor `" + name + "` has no shape");
    uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : *shape) {
        if (!d.is_number_unsigned()) bad(path, "tensor `" + name + "` has a shape that is not a list of sizes");
        uint64_t n = d.get<uint64_t>();
        if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) overflow = true;
        entry.shape.push_back(static_cast<int64_t>(n));
        if (n != 0 && numel > std::numeric_limits<uint64_t>::max() / n) overflow = true;
        numel *= n;
    }
    if (overflow || numel > std::numeric_limits<uint64_t>::max() / entry.dtype->bytes)
        bad(path, "tensor `" + name + "` has an impossibly large shape");

    auto offsets = e.find("data_offsets");
    if (offsets == e.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
        bad(path, "tensor `" + name + "` has no valid data_offsets (two byte positions)");
    entry.begin = (*offsets)[0].get<uint64_t>();
    entry.end = (*offsets)[1].get<uint64_t>();
    std::string range = "[" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) + ")";
    if (entry.end < entry.begin)
        bad(path, "tensor `" + name + "` has data_offsets " + range + " that end before they begin");
    if (entry.end > dataSize)
        bad(path, "the file is truncated or corrupt: tensor `" + name + "` needs bytes " + range +
                      " but the data has only " + std::to_string(dataSize) + " bytes");
    uint64_t expected = numel * entry.dtype->bytes;
    if (entry.end - entry.begin != expected)
        bad(path, "tensor `" + name + "` has " + std::to_string(entry.end - entry.begin) +
                      " bytes of data but its dtype " + entry.dtype->name + " and shape need " +
                      std::to_string(expected));
    return entry;
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

    if (fileSize < 8)
        bad(path, "the file is truncated: it has " + std::to_string(fileSize) +
                      " bytes, fewer than the 8 of the header length");
    unsigned char lengthBytes[8];
    readAt(in, path, 0, reinterpret_cast<char*>(lengthBytes), 8);
    uint64_t headerSize = readLength(lengthBytes);
    if (headerSize > kMaxHeader)
        bad(path, "the header length " + std::to_string(headerSize) + " is larger than the limit of " +
                      std::to_string(kMaxHeader) + " bytes; this is not a safetensors file");
    if (headerSize > fileSize - 8)
        bad(path, "the file is truncated: the header needs " + std::to_string(headerSize) + " bytes but only " +
                      std::to_string(fileSize - 8) + " follow the length");
    uint64_t dataStart = 8 + headerSize;
    uint64_t dataSize = fileSize - dataStart;

    std::string text(headerSize, '\0');
    readAt(in, path, 8, text.data(), headerSize);
    // Duplicate keys are an error (a JSON parser would silently keep one).
    std::set<std::string> keys;
    std::string duplicate;
    json header;
    try {
        header = json::parse(text, [&](int depth, json::parse_event_t event, json& parsed) {
            if (depth == 1 && event == json::parse_event_t::key && parsed.is_string() &&
                !keys.insert(parsed.get<std::string>()).second && duplicate.empty())
                duplicate = parsed.get<std::string>();
            return true;
        });
    } catch (const json::exception&) {
        bad(path, "the header is not valid JSON");
    }
    if (!duplicate.empty()) bad(path, "the header names `" + duplicate + "` twice");
    if (!header.is_object()) bad(path, "the header is not a JSON object");

    NamedTensors result;
    std::vector<Entry> entries;
    for (const auto& [name, value] : header.items()) {
        if (name == "__metadata__") {
            if (!value.is_object()) bad(path, "`__metadata__` is not an object of strings");
            for (const auto& [key, v] : value.items()) {
                if (!v.is_string()) bad(path, "metadata `" + key + "` is not a string");
                result.metadata[key] = v.get<std::string>();
            }
            continue;
        }
        entries.push_back(parseEntry(path, name, value, dataSize));
    }

    // No two tensors may share bytes.
    std::vector<const Entry*> byOffset;
    for (const auto& e : entries) byOffset.push_back(&e);
    std::sort(byOffset.begin(), byOffset.end(), [](const Entry* a, const Entry* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    const Entry* last = nullptr;  // the non-empty tensor that ends last so far
    for (const Entry* e : byOffset) {
        if (e->end == e->begin) continue;
        if (last && e->begin < last->end)
            bad(path, "the data of tensors `" + last->name + "` and `" + e->name + "` overlap");
        if (!last || e->end > last->end) last = e;
    }

    // The header's JSON object order is not kept by the parser; file order is
    // the order of the data, then the name.
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
    for (const auto& e : entries) {
        torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype->type));
        uint64_t size = e.end - e.begin;
        if (size > 0) {
            char* out = static_cast<char*>(t.data_ptr());
            readAt(in, path, dataStart + e.begin, out, size);
            if constexpr (std::endian::native == std::endian::big)
                swapBytes(out, size / e.dtype->bytes, e.dtype->bytes);
            if (e.dtype->type == torch::kBool) {
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
        const DType* dtype = dtypeByType(tensor.scalar_type());
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
