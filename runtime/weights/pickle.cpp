// The opcodes are Python's (Lib/pickletools.py documents each). Every length
// is checked against the bytes left before anything is allocated, every memo
// index and stack access against what exists.
#include "runtime/weights/pickle.h"

#include <bit>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "runtime/error.h"

namespace pipelang::runtime::pickle {

const Value* Value::get(std::string_view key) const {
    for (const auto& [k, v] : entries)
        if (k->kind == Kind::String && k->text == key) return v;
    return nullptr;
}

const char* kindName(Value::Kind kind) {
    switch (kind) {
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int:
    case Value::Kind::BigInt: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "str";
    case Value::Kind::Bytes: return "bytes";
    case Value::Kind::Tuple: return "tuple";
    case Value::Kind::List: return "list";
    case Value::Kind::Dict: return "dict";
    case Value::Kind::Global: return "global";
    case Value::Kind::Call: return "call";
    case Value::Kind::PersistentId: return "persistent id";
    }
    return "value";
}

namespace {

using Kind = Value::Kind;

// Pickles, safetensors and LibTorch's own tensors are little-endian, as are
// the machines pipe is built for; a big-endian one would need swaps here.
static_assert(std::endian::native == std::endian::little);

class Machine {
public:
    Machine(std::string_view data, size_t offset, const std::set<std::string>& allowed)
        : data_(data), at_(offset), allowed_(allowed) {}

    Pickle run() {
        while (true) {
            opcodeAt_ = at_;
            uint8_t op = byte();
            if (op == '.') break;  // STOP
            step(op);
        }
        if (stack_.size() != 1 || !marks_.empty()) fail(opcodeAt_, "the pickle ends with an unbalanced stack");
        result_.root = stack_.back();
        return std::move(result_);
    }
    size_t offset() const { return at_; }

private:
    [[noreturn]] void fail(size_t at, const std::string& what) const {
        throw RuntimeError("byte " + std::to_string(at) + ": " + what);
    }

    // ---- reading the bytes ----
    void need(size_t n) const {
        if (n > data_.size() - at_) fail(at_, "the pickle is cut short (truncated file?)");
    }
    uint8_t byte() {
        need(1);
        return uint8_t(data_[at_++]);
    }
    template <typename T>
    T little() {  // little-endian, as pickle stores binary integers
        need(sizeof(T));
        T value;
        std::memcpy(&value, data_.data() + at_, sizeof(T));
        at_ += sizeof(T);
        return value;
    }
    std::string bytes(uint64_t n) {
        if (n > data_.size() - at_) fail(at_, "a length of " + std::to_string(n) + " runs past the end of the pickle");
        std::string s(data_.substr(at_, size_t(n)));
        at_ += size_t(n);
        return s;
    }
    std::string line() {  // GLOBAL's module and name, each ended by '\n'
        size_t end = data_.find('\n', at_);
        if (end == std::string_view::npos) fail(at_, "a global's name has no end");
        std::string s(data_.substr(at_, end - at_));
        at_ = end + 1;
        return s;
    }

    // ---- values ----
    Value* make(Kind kind) {
        result_.arena.push_back(std::make_unique<Value>());
        result_.arena.back()->kind = kind;
        return result_.arena.back().get();
    }
    Value* pop() {
        if (stack_.size() <= floor()) fail(opcodeAt_, "the pickle pops from an empty stack");
        Value* v = stack_.back();
        stack_.pop_back();
        return v;
    }
    Value* top() {
        if (stack_.size() <= floor()) fail(opcodeAt_, "the pickle reads an empty stack");
        return stack_.back();
    }
    size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    std::vector<Value*> popMark() {  // the values since the last MARK
        if (marks_.empty()) fail(opcodeAt_, "the pickle closes a mark it never opened");
        size_t from = marks_.back();
        marks_.pop_back();
        std::vector<Value*> items(stack_.begin() + long(from), stack_.end());
        stack_.resize(from);
        return items;
    }
    Value* container(Kind kind) {
        Value* v = top();
        if (v->kind != kind)
            fail(opcodeAt_,
                 std::string("the pickle adds items to a ") + kindName(v->kind) + ", not a " + kindName(kind));
        return v;
    }
    void setItems(Value* dict, const std::vector<Value*>& items) {
        if (items.size() % 2) fail(opcodeAt_, "a dict is given a key without a value");
        for (size_t i = 0; i < items.size(); i += 2) dict->entries.push_back({items[i], items[i + 1]});
    }
    Value* tuple(std::vector<Value*> items) {
        Value* t = make(Kind::Tuple);
        t->items.assign(items.begin(), items.end());
        return t;
    }
    Value* global(const std::string& module, const std::string& name) {
        std::string full = module + "." + name;
        if (!allowed_.contains(full)) throw Refused{full};
        Value* g = make(Kind::Global);
        g->text = full;
        return g;
    }
    // REDUCE and NEWOBJ: a call of an allowed global, kept for the caller.
    // collections.OrderedDict() is a dict, so SETITEMS can fill it.
    Value* call(Value* callable, Value* args) {
        if (callable->kind != Kind::Global) fail(opcodeAt_, "the pickle calls something that is not a global");
        if (args->kind != Kind::Tuple) fail(opcodeAt_, "the pickle calls `" + callable->text + "` without arguments");
        if (callable->text == "collections.OrderedDict" && args->items.empty()) return make(Kind::Dict);
        Value* c = make(Kind::Call);
        c->items = {callable, args};
        return c;
    }
    Value* integer(int64_t n) {
        Value* v = make(Kind::Int);
        v->integer = n;
        return v;
    }
    Value* longInteger(uint64_t n) {  // LONG1 / LONG4: little-endian two's complement
        std::string raw = bytes(n);
        if (raw.size() > 8) {
            Value* v = make(Kind::BigInt);
            v->text = raw;
            return v;
        }
        uint64_t u = 0;
        for (size_t i = 0; i < raw.size(); ++i) u |= uint64_t(uint8_t(raw[i])) << (8 * i);
        if (!raw.empty() && raw.size() < 8 && (uint8_t(raw.back()) & 0x80)) u |= ~uint64_t(0) << (8 * raw.size());
        return integer(int64_t(u));
    }
    Value* text(Kind kind, std::string s) {
        Value* v = make(kind);
        v->text = std::move(s);
        return v;
    }
    void memoize(uint64_t index) { memo_[index] = top(); }
    Value* recall(uint64_t index) {
        auto it = memo_.find(index);
        if (it == memo_.end()) fail(opcodeAt_, "the pickle recalls memo " + std::to_string(index) + ", never stored");
        return it->second;
    }

    void step(uint8_t op) {
        switch (op) {
        case 0x80: {  // PROTO
            uint8_t protocol = byte();
            if (protocol > 5) fail(opcodeAt_, "pickle protocol " + std::to_string(protocol) + " is newer than 5");
            return;
        }
        case 0x95: little<uint64_t>(); return;  // FRAME: a hint only
        case '(': marks_.push_back(stack_.size()); return;
        case '0': pop(); return;
        case '1': popMark(); return;
        case '2': stack_.push_back(top()); return;
        case 'N': stack_.push_back(make(Kind::None)); return;
        case 0x88:
        case 0x89: {
            Value* v = make(Kind::Bool);
            v->flag = op == 0x88;
            stack_.push_back(v);
            return;
        }
        case 'J': stack_.push_back(integer(little<int32_t>())); return;
        case 'K': stack_.push_back(integer(byte())); return;
        case 'M': stack_.push_back(integer(little<uint16_t>())); return;
        case 0x8a: stack_.push_back(longInteger(byte())); return;
        case 0x8b: {
            int32_t n = little<int32_t>();
            if (n < 0) fail(opcodeAt_, "a negative length");
            stack_.push_back(longInteger(uint64_t(n)));
            return;
        }
        case 'G': {
            need(8);
            uint64_t bits = 0;
            for (int i = 0; i < 8; ++i) bits = bits << 8 | uint8_t(data_[at_++]);  // big-endian
            Value* v = make(Kind::Float);
            v->number = std::bit_cast<double>(bits);
            stack_.push_back(v);
            return;
        }
        case 'X': stack_.push_back(text(Kind::String, bytes(little<uint32_t>()))); return;
        case 0x8c: stack_.push_back(text(Kind::String, bytes(byte()))); return;
        case 0x8d: stack_.push_back(text(Kind::String, bytes(little<uint64_t>()))); return;
        case 'T': stack_.push_back(text(Kind::String, bytes(little<uint32_t>()))); return;  // Python 2 str
        case 'U': stack_.push_back(text(Kind::String, bytes(byte()))); return;
        case 'B': stack_.push_back(text(Kind::Bytes, bytes(little<uint32_t>()))); return;
        case 'C': stack_.push_back(text(Kind::Bytes, bytes(byte()))); return;
        case 0x8e:
        case 0x96: stack_.push_back(text(Kind::Bytes, bytes(little<uint64_t>()))); return;
        case ']': stack_.push_back(make(Kind::List)); return;
        case 'l': {
            Value* list = make(Kind::List);
            for (Value* v : popMark()) list->items.push_back(v);
            stack_.push_back(list);
            return;
        }
        case 'a': {
            Value* item = pop();
            container(Kind::List)->items.push_back(item);
            return;
        }
        case 'e': {
            auto items = popMark();
            Value* list = container(Kind::List);
            list->items.insert(list->items.end(), items.begin(), items.end());
            return;
        }
        case ')': stack_.push_back(make(Kind::Tuple)); return;
        case 't': stack_.push_back(tuple(popMark())); return;
        case 0x85:
        case 0x86:
        case 0x87: {
            std::vector<Value*> items(size_t(op - 0x84));
            for (size_t i = items.size(); i-- > 0;) items[i] = pop();
            stack_.push_back(tuple(items));
            return;
        }
        case '}': stack_.push_back(make(Kind::Dict)); return;
        case 'd': {
            Value* dict = make(Kind::Dict);
            setItems(dict, popMark());
            stack_.push_back(dict);
            return;
        }
        case 's': {
            Value* value = pop();
            Value* key = pop();
            container(Kind::Dict)->entries.push_back({key, value});
            return;
        }
        case 'u': {
            auto items = popMark();
            setItems(container(Kind::Dict), items);
            return;
        }
        case 'c': {
            std::string module = line();
            std::string name = line();
            stack_.push_back(global(module, name));
            return;
        }
        case 0x93: {  // STACK_GLOBAL
            Value* name = pop();
            Value* module = pop();
            if (module->kind != Kind::String || name->kind != Kind::String)
                fail(opcodeAt_, "a global named by a non-string");
            stack_.push_back(global(module->text, name->text));
            return;
        }
        case 'R':
        case 0x81: {  // REDUCE, NEWOBJ
            Value* args = pop();
            Value* callable = pop();
            stack_.push_back(call(callable, args));
            return;
        }
        case 'b': pop(); return;  // BUILD: an object's state (OrderedDict's _metadata): not needed
        case 'Q': {
            Value* id = make(Kind::PersistentId);
            id->items = {pop()};
            stack_.push_back(id);
            return;
        }
        case 'q': memoize(byte()); return;
        case 'r': memoize(little<uint32_t>()); return;
        case 0x94: memoize(memo_.size()); return;
        case 'h': stack_.push_back(recall(byte())); return;
        case 'j': stack_.push_back(recall(little<uint32_t>())); return;
        default: {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", op);
            fail(opcodeAt_, std::string("pickle opcode ") + hex +
                                " is not one torch.save writes (a corrupt file, or not a pickle)");
        }
        }
    }

    std::string_view data_;
    size_t at_;
    size_t opcodeAt_ = 0;
    const std::set<std::string>& allowed_;
    Pickle result_;
    std::vector<Value*> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, Value*> memo_;
};

}  // namespace

Pickle load(std::string_view data, size_t* offset, const std::set<std::string>& allowed) {
    if (*offset > data.size()) throw RuntimeError("byte " + std::to_string(*offset) + ": past the end of the file");
    Machine machine(data, *offset, allowed);
    Pickle pickle = machine.run();
    *offset = machine.offset();
    return pickle;
}

}  // namespace pipelang::runtime::pickle
