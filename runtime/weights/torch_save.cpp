#include "runtime/weights/torch_save.h"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>

#include "runtime/error.h"
#include "runtime/weights/pickle.h"

namespace pipelang::runtime {

namespace {

namespace fs = std::filesystem;
using pickle::Value;
using Kind = Value::Kind;

// What torch.load(weights_only=True) allows that a state dict uses: the
// ordered dict, the functions that rebuild tensors and parameters, and the
// storage types that name a dtype.
const std::map<std::string, torch::ScalarType> kStorageTypes = {
    {"torch.FloatStorage", torch::kFloat32}, {"torch.DoubleStorage", torch::kFloat64},
    {"torch.HalfStorage", torch::kFloat16},  {"torch.BFloat16Storage", torch::kBFloat16},
    {"torch.LongStorage", torch::kInt64},    {"torch.IntStorage", torch::kInt32},
    {"torch.ShortStorage", torch::kInt16},   {"torch.CharStorage", torch::kInt8},
    {"torch.ByteStorage", torch::kUInt8},    {"torch.BoolStorage", torch::kBool},
};
const char* const kRebuildTensor = "torch._utils._rebuild_tensor_v2";
const char* const kRebuildTensorOld = "torch._utils._rebuild_tensor";
const char* const kRebuildParameter = "torch._utils._rebuild_parameter";
const char* const kRebuildParameterState = "torch._utils._rebuild_parameter_with_state";

const std::set<std::string>& allowedGlobals() {
    static const std::set<std::string> allowed = [] {
        std::set<std::string> names = {"collections.OrderedDict", kRebuildTensor, kRebuildTensorOld, kRebuildParameter,
                                       kRebuildParameterState};
        for (const auto& [name, _] : kStorageTypes) names.insert(name);
        return names;
    }();
    return allowed;
}

// torch.save's legacy format starts with this number, pickled.
const char kLegacyMagic[] = "\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";  // 0x1950a86a20f9469cfc6c, little-endian

// Every dict key that wraps a state dict in the checkpoints people save
// (PyTorch Lightning's "state_dict", the examples' "model", ...).
const char* const kWrappers[] = {"state_dict", "model_state_dict", "model", "module", "net", "weights"};

std::string quoted(const fs::path& path) {
    return "`" + path.string() + "`";
}

// Why a global is refused, in the user's terms.
std::string refusal(const fs::path& path, const std::string& name) {
    std::string last = name.substr(name.rfind('.') + 1);
    bool isClass = !last.empty() && std::isupper(static_cast<unsigned char>(last[0]));
    if (name.find(".nn.modules.") != std::string::npos || (isClass && !name.starts_with("torch.")))
        return quoted(path) + " holds a whole pickled model (`" + name +
               "`), which only Python with that class can load, by running its code; save its weights "
               "instead: torch.save(model.state_dict(), \"" +
               path.filename().string() + "\")";
    if (name.starts_with("torch."))
        return quoted(path) + " holds `" + name +
               "`, which pipe does not read: it reads state dicts of dense tensors (float, int and bool)";
    return quoted(path) + " asks for `" + name +
           "` when loaded: it would run code, so pipe refuses it (pipe reads tensors only, as "
           "torch.load(weights_only=True) does); use a file you trust, saved with torch.save(model.state_dict(), ...)";
}

// The storages a file holds, by key: dtype and bytes.
struct Storage {
    torch::ScalarType dtype = torch::kFloat32;
    int64_t numel = 0;
    torch::Tensor data;  // 1-D, numel elements; made when first needed
};

class Rebuilder {
public:
    Rebuilder(fs::path path, std::function<torch::Tensor(const std::string& key, const Storage&)> bytes)
        : path_(std::move(path)), load_(std::move(bytes)) {}

    // A persistent id: ('storage', storage type, key, location, numel[, view]).
    void declare(const Value* id) {
        if (id->kind != Kind::Tuple || id->items.size() < 5 || id->items[0]->text != "storage")
            bad("a persistent id that names no storage");
        const Value* type = id->items[1];
        auto it = kStorageTypes.find(type->text);
        if (type->kind != Kind::Global || it == kStorageTypes.end()) bad("a storage of an unknown type");
        if (id->items[2]->kind != Kind::String) bad("a storage key that is not a string");
        if (id->items[4]->kind != Kind::Int || id->items[4]->integer < 0) bad("a storage size that is not a count");
        if (id->items.size() > 5 && id->items[5]->kind != Kind::None)
            bad("a storage view (written by PyTorch before 0.4); load and save it again with a newer PyTorch");
        Storage& s = storages_[id->items[2]->text];
        s.dtype = it->second;
        s.numel = id->items[4]->integer;
    }

    // The storages the pickle names, with their dtypes and sizes: every
    // persistent id under `root`, checked. Called before stateDict.
    void declareStorages(const Value* root) { collectIds(root, 0); }
    const Storage* storage(const std::string& key) const {
        auto it = storages_.find(key);
        return it == storages_.end() ? nullptr : &it->second;
    }

    // Walks the pickle: a dict of tensors, or one wrapped as kWrappers say.
    NamedTensors stateDict(const Value* root) {
        const Value* dict = root;
        for (int level = 0; dict && dict->kind == Kind::Dict && !holdsTensors(dict); ++level) {
            const Value* inner = nullptr;
            for (const char* key : kWrappers)
                if (const Value* v = dict->get(key); v && v->kind == Kind::Dict) {
                    inner = v;
                    break;
                }
            if (!inner || level > 4) break;
            dict = inner;
        }
        if (!dict || dict->kind != Kind::Dict || !holdsTensors(dict)) {
            std::string what = dict && dict->kind == Kind::Dict ? "a dict without tensors" : kindName(root);
            throw RuntimeError(quoted(path_) + " holds " + what + keysOf(dict) +
                               ", not a state dict; save one with torch.save(model.state_dict(), \"" +
                               path_.filename().string() + "\")");
        }
        NamedTensors out;
        for (const auto& [key, value] : dict->entries) {
            if (key->kind != Kind::String) bad("a state dict key that is not a string");
            if (isTensor(value)) out.tensors.push_back({key->text, tensor(value, 0)});
        }
        stripPrefix(out, "module.");  // torch.nn.DataParallel's and DDP's
        return out;
    }

private:
    [[noreturn]] void bad(const std::string& what) const {
        throw RuntimeError(quoted(path_) + " is not a state dict torch.save wrote: it holds " + what);
    }
    static std::string kindName(const Value* v) {
        return v ? std::string("a ") + pickle::kindName(v->kind) : "nothing";
    }
    static std::string keysOf(const Value* dict) {
        if (!dict || dict->kind != Kind::Dict || dict->entries.empty()) return "";
        std::string keys;
        for (size_t i = 0; i < dict->entries.size() && i < 8; ++i)
            if (dict->entries[i].first->kind == Kind::String)
                keys += (keys.empty() ? "" : ", ") + std::string("`") + dict->entries[i].first->text + "`";
        return keys.empty() ? "" : " (keys " + keys + (dict->entries.size() > 8 ? ", ..." : "") + ")";
    }
    static bool isTensor(const Value* v) {
        if (v->kind != Kind::Call) return false;
        const std::string& f = v->items[0]->text;
        return f == kRebuildTensor || f == kRebuildTensorOld || f == kRebuildParameter || f == kRebuildParameterState;
    }
    static bool holdsTensors(const Value* dict) {
        for (const auto& [_, v] : dict->entries)
            if (isTensor(v)) return true;
        return false;
    }
    void collectIds(const Value* v, int depth) {
        if (depth > pickle::kMaxDepth) bad("values nested deeper than " + std::to_string(pickle::kMaxDepth));
        if (!visited_.insert(v).second) return;  // shared values are walked once
        if (v->kind == Kind::PersistentId) declare(v->items[0]);
        for (const Value* item : v->items) collectIds(item, depth + 1);
        for (const auto& [k, item] : v->entries) collectIds(item, depth + 1);
    }
    std::vector<int64_t> integers(const Value* v, const char* what) {
        if (v->kind != Kind::Tuple && v->kind != Kind::List)
            bad(std::string("a tensor whose ") + what + " is not a tuple");
        std::vector<int64_t> out;
        for (const Value* item : v->items) {
            if (item->kind != Kind::Int || item->integer < 0)
                bad(std::string("a tensor whose ") + what + " is negative");
            out.push_back(item->integer);
        }
        return out;
    }

    torch::Tensor tensor(const Value* call, int depth) {
        if (depth > 2) bad("a parameter of a parameter");
        const std::string& f = call->items[0]->text;
        const auto& args = call->items[1]->items;
        if (f == kRebuildParameter || f == kRebuildParameterState) {
            if (args.empty() || !isTensor(args[0])) bad("a parameter without a tensor");
            return tensor(args[0], depth + 1);
        }
        if (args.size() < 4) bad("a tensor rebuilt from " + std::to_string(args.size()) + " arguments");
        if (args[0]->kind != Kind::PersistentId) bad("a tensor without a storage");
        const std::string& key = args[0]->items[0]->items[2]->text;
        Storage& storage = storages_.at(key);
        if (args[1]->kind != Kind::Int || args[1]->integer < 0) bad("a tensor with a negative storage offset");
        int64_t offset = args[1]->integer;
        std::vector<int64_t> size = integers(args[2], "size"), stride = integers(args[3], "stride");
        if (size.size() != stride.size()) bad("a tensor whose size and stride differ in length");
        if (!storage.data.defined()) storage.data = load_(key, storage);  // checks numel against the bytes
        // Every element the view reads must lie in the storage; the arithmetic
        // is checked, as a hostile file could make it overflow.
        int64_t count = 1, last = offset;
        for (int64_t n : size) count = n == 0 ? 0 : count;
        if (count != 0) {
            for (size_t i = 0; i < size.size(); ++i) {
                int64_t reach;
                if (__builtin_mul_overflow(size[i] - 1, stride[i], &reach) ||
                    __builtin_add_overflow(last, reach, &last) || __builtin_mul_overflow(count, size[i], &count) ||
                    count > storage.numel)
                    bad("a tensor larger than its storage (" + std::to_string(storage.numel) + " elements)");
            }
            if (last >= storage.numel)
                bad("a tensor that reads past its storage (" + std::to_string(storage.numel) + " elements)");
        }
        torch::Tensor out = torch::empty(size, torch::TensorOptions().dtype(storage.dtype));
        if (count != 0) out.copy_(storage.data.as_strided(size, stride, offset));
        return out;
    }

    static void stripPrefix(NamedTensors& data, const std::string& prefix) {
        for (const auto& [name, _] : data.tensors)
            if (!name.starts_with(prefix)) return;
        for (auto& [name, _] : data.tensors) name = name.substr(prefix.size());
    }

    fs::path path_;
    std::function<torch::Tensor(const std::string&, const Storage&)> load_;
    std::map<std::string, Storage> storages_;
    std::set<const Value*> visited_;
};

// `bytes` as a 1-D tensor of `numel` elements of `dtype`.
torch::Tensor fromBytes(const char* bytes, size_t available, const Storage& s, const fs::path& path,
                        const std::string& key) {
    size_t element = c10::elementSize(s.dtype);
    if (size_t(s.numel) > available / element)
        throw RuntimeError(quoted(path) + " is cut short: storage " + key + " has " + std::to_string(available) +
                           " of its " + std::to_string(s.numel) + " × " + std::to_string(element) +
                           " bytes (truncated file?)");
    size_t need = size_t(s.numel) * element;
    torch::Tensor t = torch::empty({s.numel}, torch::TensorOptions().dtype(s.dtype));
    if (need) std::memcpy(t.data_ptr(), bytes, need);
    // A bool is one byte, 0 or 1; any other byte (a damaged file) reads as true.
    if (s.dtype == torch::kBool) t = t.view(torch::kUInt8).ne(0);
    return t;
}

pickle::Pickle loadPickle(const fs::path& path, std::string_view data, size_t* offset) {
    try {
        return pickle::load(data, offset, allowedGlobals());
    } catch (const pickle::Refused& r) {
        throw RuntimeError(refusal(path, r.name));
    } catch (const RuntimeError& e) {
        throw RuntimeError(quoted(path) + " is not a readable torch.save file: " + e.what());
    }
}

NamedTensors readZip(const fs::path& path) {
    std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
    std::string data;
    try {
        reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path.string());
        if (!reader->hasRecord("data.pkl"))
            throw RuntimeError(quoted(path) +
                               " is a zip archive without data.pkl: not a torch.save file (a TorchScript "
                               "archive or another zip?)");
        auto [bytes, size] = reader->getRecord("data.pkl");
        data.assign(static_cast<const char*>(bytes.get()), size);
    } catch (const c10::Error& e) {
        throw RuntimeError(quoted(path) + " is not a complete PyTorch zip archive (" + firstLine(e) +
                           "); is the file truncated?");
    }
    size_t offset = 0;
    pickle::Pickle root = loadPickle(path, data, &offset);
    Rebuilder rebuild(path, [&](const std::string& key, const Storage& s) {
        try {
            auto [bytes, size] = reader->getRecord("data/" + key);
            return fromBytes(static_cast<const char*>(bytes.get()), size, s, path, key);
        } catch (const c10::Error& e) {
            throw RuntimeError(quoted(path) + ": storage " + key + " cannot be read (" + firstLine(e) + ")");
        }
    });
    rebuild.declareStorages(root.root);
    return rebuild.stateDict(root.root);
}

NamedTensors readLegacy(const fs::path& path, const std::string& data) {
    size_t offset = 0;
    auto expect = [&](const char* what, const std::function<bool(const Value*)>& ok) {
        pickle::Pickle p = loadPickle(path, data, &offset);
        if (!ok(p.root))
            throw RuntimeError(quoted(path) + " is not a torch.save file: its " + what + " is not what PyTorch writes");
        return p;
    };
    expect("magic number", [](const Value* v) {
        return v->kind == Kind::BigInt && v->text == std::string(kLegacyMagic, sizeof kLegacyMagic - 1);
    });
    expect("format version", [](const Value* v) { return v->kind == Kind::Int && v->integer == 1001; });
    expect("system description", [](const Value* v) {
        const Value* little = v->kind == Kind::Dict ? v->get("little_endian") : nullptr;
        return little && little->kind == Kind::Bool && little->flag;
    });
    pickle::Pickle root = loadPickle(path, data, &offset);
    pickle::Pickle keys = expect("list of storages", [](const Value* v) {
        if (v->kind != Kind::List) return false;
        for (const Value* k : v->items)
            if (k->kind != Kind::String) return false;
        return true;
    });
    // The storages follow in the listed order: each an int64 count, then its
    // bytes. Their element sizes come from the storage types the pickle names,
    // so the pickle's storages are declared before the bytes are laid out.
    std::map<std::string, std::pair<size_t, size_t>> where;  // key → offset, bytes
    std::map<std::string, int64_t> counts;
    Rebuilder rebuild(path, [&](const std::string& key, const Storage& s) {
        auto it = where.find(key);
        if (it == where.end()) throw RuntimeError(quoted(path) + ": storage " + key + " is not in the file");
        if (counts.at(key) != s.numel)
            throw RuntimeError(quoted(path) + ": storage " + key + " holds " + std::to_string(counts.at(key)) +
                               " elements, its tensor says " + std::to_string(s.numel));
        return fromBytes(data.data() + it->second.first, it->second.second, s, path, key);
    });
    rebuild.declareStorages(root.root);
    for (const Value* k : keys.root->items) {
        if (data.size() - offset < 8)
            throw RuntimeError(quoted(path) + " is cut short before storage " + k->text + " (truncated file?)");
        int64_t count;
        std::memcpy(&count, data.data() + offset, 8);
        offset += 8;
        const Storage* storage = rebuild.storage(k->text);
        if (count < 0 || !storage)
            throw RuntimeError(quoted(path) + ": storage " + k->text + " is not described by the file");
        size_t element = c10::elementSize(storage->dtype);
        if (uint64_t(count) > (data.size() - offset) / element)
            throw RuntimeError(quoted(path) + " is cut short in storage " + k->text + " (truncated file?)");
        size_t bytes = size_t(count) * element;
        where[k->text] = {offset, bytes};
        counts[k->text] = count;
        offset += bytes;
    }
    return rebuild.stateDict(root.root);
}

std::string firstBytes(const fs::path& path, size_t n) {
    std::ifstream in(path, std::ios::binary);
    std::string head(n, '\0');
    in.read(head.data(), std::streamsize(n));
    head.resize(size_t(in.gcount()));
    return head;
}

}  // namespace

bool looksLikeTorchSave(const fs::path& path) {
    std::string head = firstBytes(path, 4);
    return head == "PK\x03\x04" || (!head.empty() && uint8_t(head[0]) == 0x80);
}

NamedTensors readTorchSave(const fs::path& path) {
    std::error_code error;
    if (!fs::is_regular_file(path, error)) throw RuntimeError("weights file " + quoted(path) + " does not exist");
    if (firstBytes(path, 4) == "PK\x03\x04") return readZip(path);
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.empty() || uint8_t(data[0]) != 0x80)
        throw RuntimeError(quoted(path) + " is neither a zip archive nor a pickle: not a torch.save file");
    return readLegacy(path, data);
}

}  // namespace pipelang::runtime
