// safetensors: https://github.com/huggingface/safetensors — an 8-byte
// little-endian header length N, N bytes of JSON, then the tensors' bytes.
#include "runtime/weights/safetensors_header.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

using nlohmann::json;

// The official implementation's limit: a larger header is taken as a corrupt file.
constexpr uint64_t kMaxHeader = 100'000'000;

const SafetensorsDType* dtypeByName(const std::string& name) {
    for (const auto& d : kSafetensorsDTypes)
        if (name == d.name) return &d;
    return nullptr;
}

// Parses and checks one tensor's header entry against the data's size.
SafetensorsEntry parseEntry(const std::filesystem::path& path, const std::string& name, const json& e,
                            uint64_t dataSize) {
    auto bad = [&](const std::string& what) { badSafetensors(path, what); };
    SafetensorsEntry entry;
    entry.name = name;
    if (!e.is_object()) bad("the header entry of tensor `" + name + "` is not an object");
    for (const auto& [key, _] : e.items())
        if (key != "dtype" && key != "shape" && key != "data_offsets")
            bad("tensor `" + name + "` has an unknown header field `" + key + "`");
    auto dtype = e.find("dtype");
    if (dtype == e.end() || !dtype->is_string()) bad("tensor `" + name + "` has no dtype");
    entry.dtype = dtypeByName(dtype->get<std::string>());
    if (!entry.dtype)
        bad("tensor `" + name + "` has the unsupported dtype `" + dtype->get<std::string>() +
            "` (supported: F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL)");

    auto shape = e.find("shape");
    if (shape == e.end() || !shape->is_array()) bad("tensor `" + name + "` has no shape");
    uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : *shape) {
        if (!d.is_number_unsigned()) bad("tensor `" + name + "` has a shape that is not a list of sizes");
        uint64_t n = d.get<uint64_t>();
        if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) overflow = true;
        entry.shape.push_back(static_cast<int64_t>(n));
        if (n != 0 && numel > std::numeric_limits<uint64_t>::max() / n) overflow = true;
        numel *= n;
    }
    if (overflow || numel > std::numeric_limits<uint64_t>::max() / entry.dtype->bytes)
        bad("tensor `" + name + "` has an impossibly large shape");

    auto offsets = e.find("data_offsets");
    if (offsets == e.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
        bad("tensor `" + name + "` has no valid data_offsets (two byte positions)");
    entry.begin = (*offsets)[0].get<uint64_t>();
    entry.end = (*offsets)[1].get<uint64_t>();
    std::string range = "[" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) + ")";
    if (entry.end < entry.begin) bad("tensor `" + name + "` has data_offsets " + range + " that end before they begin");
    if (entry.end > dataSize)
        bad("the file is truncated or corrupt: tensor `" + name + "` needs bytes " + range + " but the data has only " +
            std::to_string(dataSize) + " bytes");
    uint64_t expected = numel * entry.dtype->bytes;
    if (entry.end - entry.begin != expected)
        bad("tensor `" + name + "` has " + std::to_string(entry.end - entry.begin) + " bytes of data but its dtype " +
            entry.dtype->name + " and shape need " + std::to_string(expected));
    return entry;
}

}  // namespace

void badSafetensors(const std::filesystem::path& path, const std::string& what) {
    throw RuntimeError("cannot read weights file `" + path.string() + "`: " + what);
}

uint64_t safetensorsHeaderSize(const std::filesystem::path& path, const unsigned char (&length)[8], uint64_t fileSize) {
    if (fileSize < 8)
        badSafetensors(path, "the file is truncated: it has " + std::to_string(fileSize) +
                                 " bytes, fewer than the 8 of the header length");
    uint64_t headerSize = 0;
    for (int i = 7; i >= 0; --i) headerSize = (headerSize << 8) | length[i];
    if (headerSize > kMaxHeader)
        badSafetensors(path, "the header length " + std::to_string(headerSize) + " is larger than the limit of " +
                                 std::to_string(kMaxHeader) + " bytes; this is not a safetensors file");
    if (headerSize > fileSize - 8)
        badSafetensors(path, "the file is truncated: the header needs " + std::to_string(headerSize) +
                                 " bytes but only " + std::to_string(fileSize - 8) + " follow the length");
    return headerSize;
}

SafetensorsHeader parseSafetensorsHeader(const std::filesystem::path& path, std::string_view text, uint64_t dataSize) {
    auto bad = [&](const std::string& what) { badSafetensors(path, what); };
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
        bad("the header is not valid JSON");
    }
    if (!duplicate.empty()) bad("the header names `" + duplicate + "` twice");
    if (!header.is_object()) bad("the header is not a JSON object");

    SafetensorsHeader result;
    for (const auto& [name, value] : header.items()) {
        if (name == "__metadata__") {
            if (!value.is_object()) bad("`__metadata__` is not an object of strings");
            for (const auto& [key, v] : value.items()) {
                if (!v.is_string()) bad("metadata `" + key + "` is not a string");
                result.metadata[key] = v.get<std::string>();
            }
            continue;
        }
        result.entries.push_back(parseEntry(path, name, value, dataSize));
    }

    // No two tensors may share bytes.
    std::vector<const SafetensorsEntry*> byOffset;
    for (const auto& e : result.entries) byOffset.push_back(&e);
    std::sort(byOffset.begin(), byOffset.end(), [](const SafetensorsEntry* a, const SafetensorsEntry* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    const SafetensorsEntry* last = nullptr;  // the non-empty tensor that ends last so far
    for (const SafetensorsEntry* e : byOffset) {
        if (e->end == e->begin) continue;
        if (last && e->begin < last->end) bad("the data of tensors `" + last->name + "` and `" + e->name + "` overlap");
        if (!last || e->end > last->end) last = e;
    }

    // The header's JSON object order is not kept by the parser; file order is
    // the order of the data, then the name.
    std::stable_sort(result.entries.begin(), result.entries.end(),
                     [](const SafetensorsEntry& a, const SafetensorsEntry& b) { return a.begin < b.begin; });
    return result;
}

}  // namespace pipelang::runtime
