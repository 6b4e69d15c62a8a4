// A restricted reader of Python pickles, for the files torch.save writes.
//
// It rebuilds plain values (None, bools, ints, floats, strings, bytes,
// tuples, lists, dicts) and nothing else runs: a global (module.name) is
// accepted only when the caller allows its name, and a call of one (REDUCE)
// becomes a Call value that the caller interprets, as torch.load's
// weights_only mode allows only a fixed list. So a pickle that would run
// `os.system` when Python loads it is refused here by the global's name,
// before anything could happen. The opcodes are those of protocols 2 to 5,
// which torch.save and pickle.dump write.
//
// Written for pipe (no Debian package reads pickles from C++ without running
// them, and LibTorch's torch::jit::pickle_load rejects Python's state dicts);
// tests/runtime/torch_save_test.cpp fuzzes it.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pipelang::runtime::pickle {

struct Value;
using Ref = const Value*;  // owned by the Pickle that loaded it

struct Value {
    enum class Kind {
        None,
        Bool,
        Int,     // fits in 64 bits
        BigInt,  // does not: `text` holds its little-endian two's complement bytes
        Float,
        String,  // UTF-8
        Bytes,
        Tuple,
        List,
        Dict,
        Global,        // `text` is "module.name"
        Call,          // items[0] a Global, items[1] its arguments (a Tuple)
        PersistentId,  // items[0] the id (torch.save: a tuple naming a storage)
    };
    Kind kind = Kind::None;
    bool flag = false;
    int64_t integer = 0;
    double number = 0;
    std::string text;
    std::vector<Ref> items;                    // Tuple, List, Call, PersistentId
    std::vector<std::pair<Ref, Ref>> entries;  // Dict, in insertion order

    const Value* get(std::string_view key) const;  // a Dict's entry by string key, or null
};

// What one pickle holds. Values live in `arena` and point at each other, so a
// pickle that makes a list contain itself makes a cycle but no leak; code
// that walks values stops at kMaxDepth.
struct Pickle {
    std::vector<std::unique_ptr<Value>> arena;
    Ref root = nullptr;
};

// The deepest nesting a walk accepts (Python's own unpickler recurses no
// deeper than its recursion limit, 1000): deeper is a corrupt or hostile file.
constexpr int kMaxDepth = 1000;

// A global the caller does not allow: `name` is "module.name".
struct Refused {
    std::string name;
};

// Reads one pickle from `data` starting at `*offset` and leaves `*offset`
// just past its STOP. `allowed` are the globals that may appear. Throws
// Refused for any other global, and RuntimeError ("byte N: ...") for a
// truncated or malformed pickle or an opcode outside protocols 2 to 5.
Pickle load(std::string_view data, size_t* offset, const std::set<std::string>& allowed);

const char* kindName(Value::Kind kind);  // "dict", "tuple", ... for messages

}  // namespace pipelang::runtime::pickle
