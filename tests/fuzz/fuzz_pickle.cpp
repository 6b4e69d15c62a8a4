// libFuzzer target: the restricted pickle reader of runtime/weights, which
// reads what torch.save wrote. An input is read as the legacy format is, a
// run of pickles one after another, with the globals readTorchSave allows.
// A bad pickle is one RuntimeError and a refused global is Refused; what
// loads must have the shape runtime/weights/torch_save.cpp relies on (a
// call's function and argument tuple, a persistent id's id).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "runtime/error.h"
#include "runtime/weights/pickle.h"

namespace {

using namespace pipelang::runtime;
using Kind = pickle::Value::Kind;

// torch_save.cpp's allowed globals: the ordered dict, the rebuild functions and the storage types.
const std::set<std::string> kAllowed = {
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch.FloatStorage",
    "torch.DoubleStorage",
    "torch.HalfStorage",
    "torch.BFloat16Storage",
    "torch.LongStorage",
    "torch.IntStorage",
    "torch.ShortStorage",
    "torch.CharStorage",
    "torch.ByteStorage",
    "torch.BoolStorage",
};

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_pickle: %s\n", what);
    std::abort();
}

void walk(const pickle::Value* v, int depth, std::set<const pickle::Value*>& seen) {
    if (!v) fail("a null value");
    if (depth > pickle::kMaxDepth || !seen.insert(v).second) return;
    if (v->kind == Kind::Call &&
        (v->items.size() != 2 || v->items[0]->kind != Kind::Global || v->items[1]->kind != Kind::Tuple))
        fail("a call that is not a global and a tuple of arguments");
    if (v->kind == Kind::PersistentId && v->items.size() != 1) fail("a persistent id without its id");
    pickle::kindName(v->kind);
    for (const pickle::Value* item : v->items) walk(item, depth + 1, seen);
    for (const auto& [key, item] : v->entries) {
        walk(key, depth + 1, seen);
        walk(item, depth + 1, seen);
    }
    if (v->kind == Kind::Dict) v->get("state_dict");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    size_t offset = 0;
    try {
        while (offset < bytes.size()) {
            size_t before = offset;
            pickle::Pickle p = pickle::load(bytes, &offset, kAllowed);
            if (offset <= before || offset > bytes.size()) fail("load left the offset where it was or past the end");
            std::set<const pickle::Value*> seen;
            walk(p.root, 0, seen);
        }
    } catch (const RuntimeError&) {
    } catch (const pickle::Refused&) {}
    return 0;
}
