// The pickle reader of runtime/weights (LibTorch-free, so it runs here with
// the front end, under ASan and UBSan in scripts/test): a real state dict's
// pickle, as torch.save wrote it, read; then 100,000 random changes of it,
// each read to a value or refused with one error, never a crash.
#include "runtime/weights/pickle.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

using namespace std::string_literals;

#include "runtime/error.h"

namespace pipelang::runtime::pickle {
namespace {

// The main pickle of torch.save({"conv.weight": randn(2, 1, 3, 3), "conv.bias":
// zeros(2), "bn.num_batches_tracked": tensor(7), "fc.weight": randn(3, 2).t()})
// in the legacy format, with its OrderedDict's _metadata (Debian's PyTorch 1.13).
const std::string kStateDict = std::string(
    "\x80\x02\x63\x63\x6f\x6c\x6c\x65\x63\x74\x69\x6f\x6e\x73\x0a\x4f\x72\x64\x65\x72\x65\x64\x44\x69"
    "\x63\x74\x0a\x71\x00\x29\x52\x71\x01\x28\x58\x0b\x00\x00\x00\x63\x6f\x6e\x76\x2e\x77\x65\x69\x67"
    "\x68\x74\x71\x02\x63\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69\x6c\x73\x0a\x5f\x72\x65\x62\x75\x69"
    "\x6c\x64\x5f\x74\x65\x6e\x73\x6f\x72\x5f\x76\x32\x0a\x71\x03\x28\x28\x58\x07\x00\x00\x00\x73\x74"
    "\x6f\x72\x61\x67\x65\x71\x04\x63\x74\x6f\x72\x63\x68\x0a\x46\x6c\x6f\x61\x74\x53\x74\x6f\x72\x61"
    "\x67\x65\x0a\x71\x05\x58\x09\x00\x00\x00\x31\x37\x35\x31\x35\x39\x32\x33\x32\x71\x06\x58\x03\x00"
    "\x00\x00\x63\x70\x75\x71\x07\x4b\x12\x4e\x74\x71\x08\x51\x4b\x00\x28\x4b\x02\x4b\x01\x4b\x03\x4b"
    "\x03\x74\x71\x09\x28\x4b\x09\x4b\x09\x4b\x03\x4b\x01\x74\x71\x0a\x89\x68\x00\x29\x52\x71\x0b\x74"
    "\x71\x0c\x52\x71\x0d\x58\x09\x00\x00\x00\x63\x6f\x6e\x76\x2e\x62\x69\x61\x73\x71\x0e\x68\x03\x28"
    "\x28\x68\x04\x68\x05\x58\x09\x00\x00\x00\x31\x37\x35\x31\x36\x38\x38\x39\x36\x71\x0f\x68\x07\x4b"
    "\x02\x4e\x74\x71\x10\x51\x4b\x00\x4b\x02\x85\x71\x11\x4b\x01\x85\x71\x12\x89\x68\x00\x29\x52\x71"
    "\x13\x74\x71\x14\x52\x71\x15\x58\x16\x00\x00\x00\x62\x6e\x2e\x6e\x75\x6d\x5f\x62\x61\x74\x63\x68"
    "\x65\x73\x5f\x74\x72\x61\x63\x6b\x65\x64\x71\x16\x68\x03\x28\x28\x68\x04\x63\x74\x6f\x72\x63\x68"
    "\x0a\x4c\x6f\x6e\x67\x53\x74\x6f\x72\x61\x67\x65\x0a\x71\x17\x58\x09\x00\x00\x00\x31\x37\x35\x31"
    "\x36\x39\x34\x35\x36\x71\x18\x68\x07\x4b\x01\x4e\x74\x71\x19\x51\x4b\x00\x29\x29\x89\x68\x00\x29"
    "\x52\x71\x1a\x74\x71\x1b\x52\x71\x1c\x58\x09\x00\x00\x00\x66\x63\x2e\x77\x65\x69\x67\x68\x74\x71"
    "\x1d\x68\x03\x28\x28\x68\x04\x68\x05\x58\x09\x00\x00\x00\x31\x31\x33\x31\x34\x31\x39\x36\x38\x71"
    "\x1e\x68\x07\x4b\x06\x4e\x74\x71\x1f\x51\x4b\x00\x4b\x02\x4b\x03\x86\x71\x20\x4b\x01\x4b\x02\x86"
    "\x71\x21\x89\x68\x00\x29\x52\x71\x22\x74\x71\x23\x52\x71\x24\x75\x7d\x71\x25\x58\x09\x00\x00\x00"
    "\x5f\x6d\x65\x74\x61\x64\x61\x74\x61\x71\x26\x68\x00\x29\x52\x71\x27\x28\x58\x00\x00\x00\x00\x71"
    "\x28\x7d\x71\x29\x58\x07\x00\x00\x00\x76\x65\x72\x73\x69\x6f\x6e\x71\x2a\x4b\x01\x73\x58\x02\x00"
    "\x00\x00\x62\x6e\x71\x2b\x7d\x71\x2c\x68\x2a\x4b\x02\x73\x75\x73\x62\x2e",
    522);

const std::set<std::string> kTorchGlobals = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                             "torch.FloatStorage", "torch.LongStorage"};

TEST(Pickle, ReadsAStateDictThatTorchSaveWrote) {
    size_t offset = 0;
    Pickle p = load(kStateDict, &offset, kTorchGlobals);
    EXPECT_EQ(offset, kStateDict.size());
    ASSERT_EQ(p.root->kind, Value::Kind::Dict);
    ASSERT_EQ(p.root->entries.size(), 4u);
    EXPECT_EQ(p.root->entries[0].first->text, "conv.weight");
    EXPECT_EQ(p.root->entries[3].first->text, "fc.weight");
    const Value* weight = p.root->get("conv.weight");
    ASSERT_TRUE(weight);
    ASSERT_EQ(weight->kind, Value::Kind::Call);
    EXPECT_EQ(weight->items[0]->text, "torch._utils._rebuild_tensor_v2");
    const auto& args = weight->items[1]->items;
    ASSERT_GE(args.size(), 4u);
    ASSERT_EQ(args[0]->kind, Value::Kind::PersistentId);
    const auto& id = args[0]->items[0]->items;  // ('storage', FloatStorage, key, 'cpu', 18, None)
    ASSERT_EQ(id.size(), 6u);
    EXPECT_EQ(id[0]->text, "storage");
    EXPECT_EQ(id[1]->text, "torch.FloatStorage");
    EXPECT_EQ(id[4]->integer, 18);
    ASSERT_EQ(args[2]->items.size(), 4u);  // size (2, 1, 3, 3)
    EXPECT_EQ(args[2]->items[0]->integer, 2);
    EXPECT_EQ(args[2]->items[3]->integer, 3);
    const auto& fcStride = p.root->get("fc.weight")->items[1]->items[3]->items;  // the transpose's (1, 2)
    ASSERT_EQ(fcStride.size(), 2u);
    EXPECT_EQ(fcStride[0]->integer, 1);
    EXPECT_EQ(fcStride[1]->integer, 2);
}

TEST(Pickle, AGlobalNotAllowedIsRefusedByName) {
    size_t offset = 0;
    try {
        load(kStateDict, &offset, {"collections.OrderedDict"});
        FAIL() << "read without torch's globals allowed";
    } catch (const Refused& r) {
        EXPECT_EQ(r.name, "torch._utils._rebuild_tensor_v2");
    }
}

// The reader of pickles alone, on the opcodes torch.save never writes and on
// hostile shapes: a list that holds itself, and memo recalls never stored.
TEST(Pickle, HostileShapesAreErrorsNotCrashes) {
    std::set<std::string> none;
    auto error = [&](const std::string& bytes) {
        size_t offset = 0;
        try {
            load(bytes, &offset, none);
        } catch (const RuntimeError& e) {
            return std::string(e.what());
        } catch (const Refused& r) {
            return "refused " + r.name;
        }
        return std::string();
    };
    size_t offset = 0;
    // l = []; l.append(l): a cycle, kept without a leak (the arena owns it).
    Pickle cycle = load(
        "\x80\x02]q\x00"
        "h\x00"
        "a."s,
        &offset, none);
    ASSERT_EQ(cycle.root->kind, Value::Kind::List);
    EXPECT_EQ(cycle.root->items[0], cycle.root);
    EXPECT_EQ(error("\x80\x02h\x05."), "byte 2: the pickle recalls memo 5, never stored");
    EXPECT_EQ(error("\x80\x02X\xff\xff\xff\x7f"), "byte 7: a length of 2147483647 runs past the end of the pickle");
    EXPECT_EQ(error("\x80\x02"
                    "cos\nsystem\n."),
              "refused os.system");
    EXPECT_EQ(error("\x80\x02"
                    "a."),
              "byte 2: the pickle pops from an empty stack");
    EXPECT_EQ(error("\x80\x02"
                    "K\x01K\x02."),
              "byte 6: the pickle ends with an unbalanced stack");
    EXPECT_NE(error("\x80\x02"
                    "I1\n.")
                  .find("pickle opcode 0x49 is not one torch.save writes"),
              std::string::npos);
    EXPECT_EQ(error(std::string("\x80\x02", 2)), "byte 2: the pickle is cut short (truncated file?)");
}

TEST(Pickle, HundredThousandScrambledPicklesFailCleanly) {
    std::mt19937 rng(2026);
    int read = 0, refused = 0;
    for (int round = 0; round < 100000; ++round) {
        std::string bytes = kStateDict;
        for (int c = 1 + int(rng() % 4); c > 0 && !bytes.empty(); --c) {
            size_t at = rng() % bytes.size();
            switch (rng() % 4) {
            case 0: bytes[at] = char(rng()); break;
            case 1: bytes[at] = char(bytes[at] ^ (1 << (rng() % 8))); break;
            case 2: bytes.erase(at, 1 + rng() % 16); break;
            default: bytes.insert(at, std::string(1 + rng() % 4, char(rng()))); break;
            }
        }
        size_t offset = 0;
        try {
            load(bytes, &offset, kTorchGlobals);
            EXPECT_LE(offset, bytes.size());
            ++read;
        } catch (const RuntimeError&) {
            ++refused;
        } catch (const Refused&) {
            ++refused;
        }
    }
    EXPECT_GT(read, 0);
    EXPECT_GT(refused, 0);
    std::cout << "scrambled pickles: " << read << " read, " << refused << " refused\n";
}

}  // namespace
}  // namespace pipelang::runtime::pickle
